/**
 * The one word (and why) that says whether an endpoint receives webhooks now. Shared by the
 * list and the detail page. Echo disabling an endpoint outranks the owner's switches,
 * because saving the endpoint is what clears it.
 */
export type EndpointState =
  | { kind: "disabled"; label: "disabled"; reason: string }
  | { kind: "off"; label: "switched off" }
  | { kind: "paused"; label: "paused" }
  | { kind: "active"; label: "active" };

export function endpointState(endpoint: {
  enabled: boolean;
  pausedAt: Date | string | null;
  disabledAt: Date | string | null;
  disabledReason: string | null;
}): EndpointState {
  if (endpoint.disabledAt) {
    return { kind: "disabled", label: "disabled", reason: endpoint.disabledReason ?? "Echo stopped sending to it." };
  }
  if (!endpoint.enabled) return { kind: "off", label: "switched off" };
  if (endpoint.pausedAt) return { kind: "paused", label: "paused" };
  return { kind: "active", label: "active" };
}
