import { readFile } from "node:fs/promises";
import internals from "@prisma/internals";
import pg from "pg";

/**
 * Compares what schema.prisma describes with what a PostgreSQL database actually has:
 * tables, columns (type, nullability, default), primary keys, unique and normal indexes
 * (name, columns in order, method), foreign keys (columns, target, ON DELETE / ON UPDATE)
 * and enums. Returns one readable line per difference.
 */

type Column = { type: string; nullable: boolean; default: string | null };
type Index = { columns: string[]; unique: boolean; primary: boolean; method: string };
type ForeignKey = {
  table: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
};
export type SchemaShape = {
  tables: Map<string, Map<string, Column>>;
  indexes: Map<string, Index & { table: string }>;
  foreignKeys: Map<string, ForeignKey>;
  enums: Map<string, string[]>;
};

type DmmfField = {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "enum" | "object" | "unsupported";
  type: string;
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  isUpdatedAt: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
};
type DmmfModel = { name: string; dbName: string | null; fields: DmmfField[]; primaryKey: { fields: string[] } | null };
type DmmfIndex = {
  model: string;
  type: "id" | "unique" | "normal" | "fulltext";
  dbName?: string | null;
  algorithm?: string;
  fields: { name: string }[];
};
type Dmmf = {
  datamodel: { models: DmmfModel[]; enums: { name: string; values: { name: string }[] }[]; indexes: DmmfIndex[] };
};

const SCALAR_TYPES: Record<string, string> = {
  String: "text",
  Int: "integer",
  BigInt: "bigint",
  Boolean: "boolean",
  DateTime: "timestamp(3) without time zone",
  Json: "jsonb",
  Float: "double precision",
  Decimal: "numeric(65,30)",
  Bytes: "bytea",
};
const CLIENT_SIDE_DEFAULTS = new Set(["cuid", "uuid", "nanoid", "ulid"]);
const REFERENTIAL_ACTIONS: Record<string, string> = {
  Cascade: "CASCADE",
  Restrict: "RESTRICT",
  NoAction: "NO ACTION",
  SetNull: "SET NULL",
  SetDefault: "SET DEFAULT",
};

function expectedDefault(field: DmmfField): string | null {
  if (!field.hasDefaultValue) return null;
  const value = field.default as { name?: string } | string | number | boolean | undefined;
  if (value && typeof value === "object" && "name" in value) {
    if (CLIENT_SIDE_DEFAULTS.has(value.name ?? "")) return null;
    if (value.name === "now") return "CURRENT_TIMESTAMP";
    if (value.name === "autoincrement") return "nextval";
    return String(value.name);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string") {
    if (field.kind === "enum") return `'${value}'::${field.type}`;
    if (field.type === "Json") return `'${value}'::jsonb`;
    return `'${value}'::text`;
  }
  return "unknown";
}

export async function expectedSchema(schemaPath: string): Promise<SchemaShape> {
  const { getDMMF } = internals as unknown as { getDMMF: (options: { datamodel: string }) => Promise<Dmmf> };
  const dmmf = await getDMMF({ datamodel: await readFile(schemaPath, "utf8") });
  const shape: SchemaShape = { tables: new Map(), indexes: new Map(), foreignKeys: new Map(), enums: new Map() };
  const tableOf = new Map(dmmf.datamodel.models.map((model) => [model.name, model.dbName ?? model.name]));
  const columnOf = (model: DmmfModel, fieldName: string) => {
    const field = model.fields.find((f) => f.name === fieldName);
    return field?.dbName ?? fieldName;
  };

  for (const enumType of dmmf.datamodel.enums)
    shape.enums.set(
      enumType.name,
      enumType.values.map((v) => v.name),
    );
  for (const model of dmmf.datamodel.models) {
    const table = tableOf.get(model.name)!;
    const columns = new Map<string, Column>();
    for (const field of model.fields) {
      if (field.kind !== "scalar" && field.kind !== "enum") continue;
      const base = field.kind === "enum" ? field.type : (SCALAR_TYPES[field.type] ?? field.type);
      columns.set(field.dbName ?? field.name, {
        type: field.isList ? `${base}[]` : base,
        // Prisma creates list columns without NOT NULL.
        nullable: field.isList || !field.isRequired,
        default: expectedDefault(field),
      });
    }
    shape.tables.set(table, columns);

    for (const field of model.fields) {
      if (field.kind !== "object" || !field.relationFromFields?.length) continue;
      const requiredRelation = field.relationFromFields.every(
        (from) => model.fields.find((f) => f.name === from)?.isRequired,
      );
      const target = dmmf.datamodel.models.find((m) => m.name === field.type)!;
      shape.foreignKeys.set(`${table}_${field.relationFromFields.map((f) => columnOf(model, f)).join("_")}_fkey`, {
        table,
        columns: field.relationFromFields.map((f) => columnOf(model, f)),
        refTable: tableOf.get(field.type)!,
        refColumns: (field.relationToFields ?? []).map((f) => columnOf(target, f)),
        onDelete: REFERENTIAL_ACTIONS[field.relationOnDelete ?? (requiredRelation ? "Restrict" : "SetNull")]!,
        onUpdate: REFERENTIAL_ACTIONS[field.relationOnUpdate ?? "Cascade"]!,
      });
    }
  }

  for (const index of dmmf.datamodel.indexes) {
    const model = dmmf.datamodel.models.find((m) => m.name === index.model)!;
    const table = tableOf.get(model.name)!;
    const columns = index.fields.map((f) => columnOf(model, f.name));
    const suffix = index.type === "id" ? "pkey" : index.type === "unique" ? "key" : "idx";
    const name = index.dbName ?? (index.type === "id" ? `${table}_pkey` : `${table}_${columns.join("_")}_${suffix}`);
    shape.indexes.set(name, {
      table,
      columns,
      unique: index.type !== "normal",
      primary: index.type === "id",
      method: (index.algorithm ?? "BTree").toLowerCase(),
    });
  }
  return shape;
}

export async function actualSchema(databaseUrl: string): Promise<SchemaShape> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const shape: SchemaShape = { tables: new Map(), indexes: new Map(), foreignKeys: new Map(), enums: new Map() };
    const columns = await client.query<{
      table: string;
      column: string;
      type: string;
      nullable: boolean;
      default: string | null;
    }>(`
      SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
             NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relname <> '_prisma_migrations'
      ORDER BY c.relname, a.attnum`);
    for (const row of columns.rows) {
      const table = shape.tables.get(row.table) ?? new Map<string, Column>();
      table.set(row.column, {
        type: row.type.replaceAll('"', ""),
        nullable: row.nullable,
        default:
          row.default === null
            ? null
            : row.default.replaceAll('"', "").startsWith("nextval")
              ? "nextval"
              : row.default.replaceAll('"', ""),
      });
      shape.tables.set(row.table, table);
    }
    const indexes = await client.query<{
      name: string;
      table: string;
      unique: boolean;
      primary: boolean;
      method: string;
      columns: string[];
    }>(`
      SELECT i.relname AS name, t.relname AS table, ix.indisunique AS unique, ix.indisprimary AS primary, am.amname AS method,
             array(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
      FROM pg_index ix
      JOIN pg_class i ON i.oid = ix.indexrelid
      JOIN pg_class t ON t.oid = ix.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
      JOIN pg_am am ON am.oid = i.relam
      WHERE t.relname <> '_prisma_migrations'`);
    for (const row of indexes.rows) {
      shape.indexes.set(row.name, {
        table: row.table,
        columns: row.columns,
        unique: row.unique,
        primary: row.primary,
        method: row.method,
      });
    }
    const foreignKeys = await client.query<{
      name: string;
      table: string;
      columns: string[];
      refTable: string;
      refColumns: string[];
      onDelete: string;
      onUpdate: string;
    }>(`
      SELECT con.conname AS name, t.relname AS table, rt.relname AS "refTable",
             array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
             array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS "refColumns",
             CASE con.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END AS "onDelete",
             CASE con.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END AS "onUpdate"
      FROM pg_constraint con
      JOIN pg_class t ON t.oid = con.conrelid
      JOIN pg_class rt ON rt.oid = con.confrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
      WHERE con.contype = 'f'`);
    for (const row of foreignKeys.rows) {
      shape.foreignKeys.set(row.name, {
        table: row.table,
        columns: row.columns,
        refTable: row.refTable,
        refColumns: row.refColumns,
        onDelete: row.onDelete,
        onUpdate: row.onUpdate,
      });
    }
    const enums = await client.query<{ name: string; values: string[] }>(`
      SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
      JOIN pg_namespace n ON n.oid = t.typnamespace AND n.nspname = 'public'
      GROUP BY t.typname`);
    for (const row of enums.rows) shape.enums.set(row.name, row.values);
    return shape;
  } finally {
    await client.end();
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function diffSchemas(expected: SchemaShape, actual: SchemaShape): string[] {
  const problems: string[] = [];
  for (const [table, columns] of expected.tables) {
    const actualColumns = actual.tables.get(table);
    if (!actualColumns) {
      problems.push(`table ${table}: missing in the database`);
      continue;
    }
    for (const [column, spec] of columns) {
      const found = actualColumns.get(column);
      if (!found) problems.push(`column ${table}.${column}: missing in the database`);
      else if (!same(spec, found))
        problems.push(
          `column ${table}.${column}: schema.prisma says ${JSON.stringify(spec)}, database has ${JSON.stringify(found)}`,
        );
    }
    for (const column of actualColumns.keys()) {
      if (!columns.has(column)) problems.push(`column ${table}.${column}: in the database but not in schema.prisma`);
    }
  }
  for (const table of actual.tables.keys()) {
    if (!expected.tables.has(table)) problems.push(`table ${table}: in the database but not in schema.prisma`);
  }
  const compare = <T>(kind: string, want: Map<string, T>, have: Map<string, T>) => {
    for (const [name, spec] of want) {
      const found = have.get(name);
      if (!found) problems.push(`${kind} ${name}: missing in the database (${JSON.stringify(spec)})`);
      else if (!same(spec, found))
        problems.push(
          `${kind} ${name}: schema.prisma says ${JSON.stringify(spec)}, database has ${JSON.stringify(found)}`,
        );
    }
    for (const name of have.keys())
      if (!want.has(name)) problems.push(`${kind} ${name}: in the database but not in schema.prisma`);
  };
  compare("index", expected.indexes, actual.indexes);
  compare("foreign key", expected.foreignKeys, actual.foreignKeys);
  compare("enum", expected.enums, actual.enums);
  return problems;
}
