/**
 * Custom event types a fresh demo starts with (SEED_DEMO_DATA): what a shop's backend would
 * publish, so the catalog, the endpoint forms and POST /api/v1/events can be tried at once.
 * A unit test checks that each schema compiles and each example matches it.
 */

const money = { type: "number", minimum: 0 };
const currency = { type: "string", enum: ["EUR", "USD", "GBP"] };
const id = (prefix: string) => ({ type: "string", pattern: `^${prefix}_[A-Za-z0-9]+$` });
const timestamp = { type: "string", format: "date-time" };

const orderSchema = (extra: Record<string, unknown> = {}, required: string[] = []) => ({
  type: "object",
  properties: {
    id: id("ord"),
    customer_id: id("cus"),
    total: money,
    currency,
    ...extra,
  },
  required: ["id", "customer_id", "total", "currency", ...required],
});

const order = { id: "ord_1001", customer_id: "cus_42", total: 42.5, currency: "EUR" };

export const DEMO_EVENT_TYPES: { name: string; description: string; schema: object; example: object }[] = [
  {
    name: "order.created",
    description: "A customer placed an order.",
    schema: orderSchema({
      items: {
        type: "array",
        minItems: 1,
        items: {
          type: "object",
          properties: { sku: { type: "string" }, quantity: { type: "integer", minimum: 1 } },
          required: ["sku", "quantity"],
        },
      },
    }),
    example: { ...order, items: [{ sku: "MUG-BLUE", quantity: 2 }] },
  },
  {
    name: "order.paid",
    description: "An order's payment went through.",
    schema: orderSchema({ paid_at: timestamp }, ["paid_at"]),
    example: { ...order, paid_at: "2026-01-15T09:31:00Z" },
  },
  {
    name: "order.shipped",
    description: "An order left the warehouse.",
    schema: orderSchema({ carrier: { type: "string" }, tracking_number: { type: "string" } }, ["carrier"]),
    example: { ...order, carrier: "DHL", tracking_number: "JD014600003828" },
  },
  {
    name: "order.cancelled",
    description: "An order was cancelled before it shipped.",
    schema: orderSchema({ reason: { type: "string", enum: ["customer", "fraud", "out_of_stock"] } }, ["reason"]),
    example: { ...order, reason: "customer" },
  },
  {
    name: "order.refunded",
    description: "Some or all of an order was refunded.",
    schema: orderSchema({ amount_refunded: money }, ["amount_refunded"]),
    example: { ...order, amount_refunded: 12.5 },
  },
  {
    name: "invoice.created",
    description: "An invoice was issued.",
    schema: {
      type: "object",
      properties: {
        id: id("inv"),
        customer_id: id("cus"),
        amount_due: money,
        currency,
        due_on: { type: "string", format: "date" },
      },
      required: ["id", "customer_id", "amount_due", "currency", "due_on"],
    },
    example: { id: "inv_77", customer_id: "cus_42", amount_due: 99, currency: "EUR", due_on: "2026-02-15" },
  },
  {
    name: "invoice.paid",
    description: "An invoice was paid in full.",
    schema: {
      type: "object",
      properties: { id: id("inv"), customer_id: id("cus"), amount_paid: money, currency },
      required: ["id", "customer_id", "amount_paid", "currency"],
    },
    example: { id: "inv_77", customer_id: "cus_42", amount_paid: 99, currency: "EUR" },
  },
  {
    name: "invoice.payment_failed",
    description: "A payment for an invoice was declined.",
    schema: {
      type: "object",
      properties: {
        id: id("inv"),
        customer_id: id("cus"),
        attempt: { type: "integer", minimum: 1 },
        reason: { type: "string" },
      },
      required: ["id", "customer_id", "attempt"],
    },
    example: { id: "inv_77", customer_id: "cus_42", attempt: 2, reason: "card_declined" },
  },
  {
    name: "customer.created",
    description: "A customer signed up.",
    schema: {
      type: "object",
      properties: { id: id("cus"), email: { type: "string", format: "email" }, name: { type: "string" } },
      required: ["id", "email"],
    },
    example: { id: "cus_42", email: "ada@example.com", name: "Ada Lovelace" },
  },
  {
    name: "subscription.renewed",
    description: "A subscription renewed for another period.",
    schema: {
      type: "object",
      properties: {
        id: id("sub"),
        customer_id: id("cus"),
        plan: { type: "string" },
        period_end: timestamp,
      },
      required: ["id", "customer_id", "plan", "period_end"],
    },
    example: { id: "sub_9", customer_id: "cus_42", plan: "team", period_end: "2026-02-15T00:00:00Z" },
  },
];
