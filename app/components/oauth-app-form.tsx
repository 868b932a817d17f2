import { OAUTH_SCOPES } from "~/lib/oauth-scopes";

type Values = { name?: string; redirectUris?: string[]; allowedScopes?: string[]; clientType?: string };

/** The fields of an OAuth app, shared by the create and edit forms; errors beside each field. */
export function OAuthAppFields({
  values,
  errors,
  withClientType,
}: {
  values?: Values;
  errors: Record<string, string | undefined>;
  withClientType: boolean;
}) {
  return (
    <div className="space-y-4">
      <div>
        <label htmlFor="app-name" className="block text-sm font-medium text-slate-700">
          Name
        </label>
        <input
          id="app-name"
          name="name"
          defaultValue={values?.name}
          className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2"
          aria-invalid={errors.name ? true : undefined}
        />
        {errors.name ? (
          <p role="alert" className="mt-1 text-sm text-red-600">
            {errors.name}
          </p>
        ) : null}
      </div>
      <div>
        <label htmlFor="app-redirects" className="block text-sm font-medium text-slate-700">
          Redirect URIs (one per line)
        </label>
        <textarea
          id="app-redirects"
          name="redirectUris"
          rows={3}
          defaultValue={values?.redirectUris?.join("\n")}
          className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-sm"
          aria-invalid={errors.redirectUris ? true : undefined}
        />
        {errors.redirectUris ? (
          <p role="alert" className="mt-1 text-sm text-red-600">
            {errors.redirectUris}
          </p>
        ) : null}
      </div>
      <fieldset>
        <legend className="text-sm font-medium text-slate-700">Allowed scopes</legend>
        {Object.entries(OAUTH_SCOPES).map(([scope, meaning]) => (
          <label key={scope} className="mt-1 flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              name="allowedScopes"
              value={scope}
              defaultChecked={values?.allowedScopes?.includes(scope) ?? scope === "openid"}
            />
            <code>{scope}</code> <span className="text-slate-500">— {meaning}</span>
          </label>
        ))}
        {errors.allowedScopes ? (
          <p role="alert" className="mt-1 text-sm text-red-600">
            {errors.allowedScopes}
          </p>
        ) : null}
      </fieldset>
      {withClientType ? (
        <fieldset>
          <legend className="text-sm font-medium text-slate-700">Client type</legend>
          <label className="mt-1 flex items-center gap-2 text-sm">
            <input
              type="radio"
              name="clientType"
              value="CONFIDENTIAL"
              defaultChecked={(values?.clientType ?? "CONFIDENTIAL") === "CONFIDENTIAL"}
            />{" "}
            Confidential (a server that can keep a secret)
          </label>
          <label className="mt-1 flex items-center gap-2 text-sm">
            <input type="radio" name="clientType" value="PUBLIC" defaultChecked={values?.clientType === "PUBLIC"} />{" "}
            Public (a browser or mobile app; PKCE required)
          </label>
        </fieldset>
      ) : null}
    </div>
  );
}

export function appFormValues(formData: FormData) {
  return {
    name: String(formData.get("name") ?? ""),
    clientType: String(formData.get("clientType") ?? "CONFIDENTIAL"),
    redirectUris: String(formData.get("redirectUris") ?? "")
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean),
    allowedScopes: formData.getAll("allowedScopes").map(String),
  };
}
