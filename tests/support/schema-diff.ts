import internals from "@prisma/internals";
import pg from "pg";

/**
 * Compares what schema.prisma describes with what a PostgreSQL database really has, the way
 * `prisma migrate diff` would if its schema engine could run here: tables, columns (type,
 * nullability, default), primary keys, unique and plain indexes (name, columns in order, sort
 * order, operator class, method), foreign keys (columns, target, ON DELETE / ON UPDATE) and
 * enums (values in order). Each difference is one sentence saying what schema.prisma wants and
 * what the database has, so a developer knows which migration to write.
 *
 * The expected side comes from Prisma's own parser (getDMMF, offline via wasm), not from
 * reading schema.prisma with regular expressions; the three things DMMF leaves out, the
 * constraint name of `@relation(map: …)`, `Unsupported("…")` fields and a partial index's
 * `where: raw("…")`, are read from their line.
 */

export type ColumnShape = { type: string; nullable: boolean; default: string | null };
export type TableShape = { kind: string; columns: Map<string, ColumnShape> };
export type IndexColumnShape = {
  /** Column name, or the expression of an expression index. */
  name: string;
  descending: boolean;
  /** Expected side: set only when schema.prisma names one (`ops:`). Actual side: always set. */
  opclass?: string;
  /** Actual side: whether `opclass` is the type's default (what an index without `ops:` gets). */
  defaultOpclass?: boolean;
};
export type IndexShape = {
  table: string;
  kind: "PRIMARY KEY" | "UNIQUE INDEX" | "INDEX";
  method: string;
  columns: IndexColumnShape[];
  /**
   * The WHERE of a partial index (`where: raw("…")`, the partialIndexes preview feature); DMMF
   * leaves it out, so it is read from the `@@index` line, which must then name its index (`map:`).
   */
  predicate: string | null;
};
export type ForeignKeyShape = {
  table: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
};
export type SchemaShape = {
  tables: Map<string, TableShape>;
  indexes: Map<string, IndexShape>;
  foreignKeys: Map<string, ForeignKeyShape>;
  enums: Map<string, string[]>;
};

// The parts of Prisma's DMMF this file reads (the full types live in @prisma/dmmf).
type DmmfField = {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "enum" | "object";
  type: string;
  isList: boolean;
  isRequired: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  nativeType?: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
};
type DmmfModel = { name: string; dbName: string | null; fields: DmmfField[] };
type DmmfIndex = {
  model: string;
  type: "id" | "unique" | "normal" | "fulltext";
  dbName?: string | null;
  algorithm?: string;
  fields: { name: string; sortOrder?: "asc" | "desc"; operatorClass?: string }[];
};
type DmmfEnum = { name: string; dbName?: string | null; values: { name: string; dbName?: string | null }[] };
type DmmfDatamodel = { models: DmmfModel[]; enums: DmmfEnum[]; indexes: DmmfIndex[] };

// How Prisma Migrate spells each scalar type on PostgreSQL when no @db.* attribute is given.
const DEFAULT_COLUMN_TYPES: Record<string, string> = {
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

// @db.* native types, as PostgreSQL's format_type() prints them; `$` is the argument list.
const NATIVE_COLUMN_TYPES: Record<string, string> = {
  Text: "text",
  Char: "character$",
  VarChar: "character varying$",
  Bit: "bit$",
  VarBit: "bit varying$",
  Uuid: "uuid",
  Xml: "xml",
  Inet: "inet",
  Citext: "citext",
  Boolean: "boolean",
  Integer: "integer",
  SmallInt: "smallint",
  BigInt: "bigint",
  Oid: "oid",
  DoublePrecision: "double precision",
  Real: "real",
  Decimal: "numeric$",
  Money: "money",
  Timestamp: "timestamp$ without time zone",
  Timestamptz: "timestamp$ with time zone",
  Date: "date",
  Time: "time$ without time zone",
  Timetz: "time$ with time zone",
  Json: "json",
  JsonB: "jsonb",
  ByteA: "bytea",
};

// Defaults Prisma Client fills in itself: the column has no DEFAULT.
const CLIENT_SIDE_DEFAULTS = new Set(["cuid", "uuid", "nanoid", "ulid"]);
const ANY_DEFAULT = "(any default)";

const REFERENTIAL_ACTIONS: Record<string, string> = {
  Cascade: "CASCADE",
  Restrict: "RESTRICT",
  NoAction: "NO ACTION",
  SetNull: "SET NULL",
  SetDefault: "SET DEFAULT",
};
const NUMERIC_TYPE = /^(integer|bigint|smallint|numeric|double precision|real|oid|money)/;

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function canonicalJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    // Not JSON (a default PostgreSQL would refuse anyway): compare it as written.
    return text;
  }
}

/** One spelling for a literal default, whichever side it came from. */
function canonicalLiteral(value: string, columnType: string): string {
  const baseType = columnType.replace(/\[\]$/, "");
  if (NUMERIC_TYPE.test(baseType) && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(value)) return value;
  if (baseType === "boolean" && /^(true|false)$/.test(value)) return value;
  if (baseType === "jsonb" || baseType === "json") return quoteLiteral(canonicalJson(value));
  return quoteLiteral(value);
}

// A trailing `::type` cast, e.g. ::text, ::"TaskRunStatus", ::timestamp(3) without time zone, ::text[].
const TRAILING_CAST = /::(?:"[^"]+"|[a-z_][a-z0-9_ ]*?(?:\(\d+(?:,\s*\d+)?\))?(?: [a-z ]+)?)(?:\[\])*$/i;

function stripCasts(expression: string): string {
  let result = expression.trim();
  while (TRAILING_CAST.test(result)) result = result.replace(TRAILING_CAST, "").trim();
  return result;
}

/** Splits `a, 'b, c', d` on the commas outside quotes. */
function splitSqlList(list: string): string[] {
  const items: string[] = [];
  let current = "";
  let quoted = false;
  for (const char of list) {
    if (char === "'") quoted = !quoted;
    if (char === "," && !quoted) {
      items.push(current.trim());
      current = "";
    } else current += char;
  }
  if (current.trim()) items.push(current.trim());
  return items;
}

function unquoteSql(text: string): string | null {
  const match = /^'((?:[^']|'')*)'$/s.exec(text);
  return match ? match[1]!.replaceAll("''", "'") : null;
}

/** The canonical form of a DEFAULT expression as pg_get_expr prints it. */
function canonicalDatabaseDefault(expression: string, columnType: string): string {
  if (/^nextval\(/i.test(expression.trim())) return "autoincrement()";
  const bare = stripCasts(expression);
  if (/^(CURRENT_TIMESTAMP|now\(\))$/i.test(bare)) return "now()";
  const elementType = columnType.replace(/\[\]$/, "");
  if (columnType.endsWith("[]")) {
    const arrayLiteral = /^ARRAY\[(.*)\]$/s.exec(bare);
    if (arrayLiteral) {
      const items = splitSqlList(arrayLiteral[1]!).map((item) => {
        const value = stripCasts(item);
        return canonicalLiteral(unquoteSql(value) ?? value, elementType);
      });
      return `ARRAY[${items.join(", ")}]`;
    }
    const text = unquoteSql(bare);
    if (text !== null && /^\{.*\}$/s.test(text)) {
      const items = splitSqlList(text.slice(1, -1).replaceAll('"', "'")).map((item) =>
        canonicalLiteral(unquoteSql(item) ?? item, elementType),
      );
      return `ARRAY[${items.join(", ")}]`;
    }
  }
  const text = unquoteSql(bare);
  if (text !== null) return canonicalLiteral(text, columnType);
  if (/^-?\d+(\.\d+)?$/.test(bare) || /^(true|false)$/.test(bare)) return bare;
  return bare.replaceAll('"', "");
}

function expectedDefault(field: DmmfField, columnType: string, enumValues: Map<string, DmmfEnum>): string | null {
  if (!field.hasDefaultValue) return null;
  const value = field.default;
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const { name, args = [] } = value as { name: string; args?: unknown[] };
    if (CLIENT_SIDE_DEFAULTS.has(name)) return null;
    if (name === "now") return "now()";
    if (name === "autoincrement") return "autoincrement()";
    if (name === "dbgenerated")
      return typeof args[0] === "string" ? canonicalDatabaseDefault(args[0], columnType) : ANY_DEFAULT;
    return `${name}(${args.join(", ")})`;
  }
  const elementType = columnType.replace(/\[\]$/, "");
  const literal = (item: unknown) => {
    if (field.kind === "enum") {
      const mapped = enumValues.get(field.type)?.values.find((v) => v.name === item);
      return quoteLiteral(mapped?.dbName ?? String(item));
    }
    return canonicalLiteral(String(item), elementType);
  };
  if (Array.isArray(value)) return `ARRAY[${value.map(literal).join(", ")}]`;
  return literal(value);
}

function columnType(field: DmmfField, enums: Map<string, DmmfEnum>): string {
  let base: string;
  if (field.kind === "enum") base = enums.get(field.type)?.dbName ?? field.type;
  else if (field.nativeType) {
    const [nativeName, args] = field.nativeType;
    const pattern = NATIVE_COLUMN_TYPES[nativeName] ?? nativeName.toLowerCase();
    base = pattern.replace("$", args.length ? `(${args.join(",")})` : "");
  } else base = DEFAULT_COLUMN_TYPES[field.type] ?? field.type;
  return field.isList ? `${base}[]` : base;
}

/** Each model's field lines, without comments, for the two things DMMF leaves out. */
function modelLines(datamodel: string): Map<string, string[]> {
  const models = new Map<string, string[]>();
  for (const block of datamodel.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)) {
    models.set(
      block[1]!,
      block[2]!.split("\n").map((line) => line.replace(/\/\/.*$/, "")),
    );
  }
  return models;
}

/** `@relation(..., map: "name")`, keyed by `Model.field`. */
function relationConstraintNames(datamodel: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const [model, lines] of modelLines(datamodel)) {
    for (const line of lines) {
      const match = /^\s*(\w+)\s.*@relation\([^)]*\bmap:\s*"([^"]+)"/.exec(line);
      if (match) names.set(`${model}.${match[1]}`, match[2]!);
    }
  }
  return names;
}

/** `@@index(…, map: "name", …, where: raw("predicate"))`: each partial index's predicate, keyed by index name. */
function partialIndexPredicates(datamodel: string): Map<string, string> {
  const predicates = new Map<string, string>();
  for (const [, lines] of modelLines(datamodel)) {
    for (const line of lines) {
      if (!/^\s*@@(index|unique)\(/.test(line)) continue;
      const where = /\bwhere:\s*raw\("((?:[^"\\]|\\.)*)"\)/.exec(line);
      if (!where) continue;
      const name = /\bmap:\s*"([^"]+)"/.exec(line)?.[1];
      if (!name)
        throw new Error(
          `A partial index must name itself with map: "…" (schema-diff reads it by name): ${line.trim()}`,
        );
      predicates.set(name, where[1]!.replace(/\\(.)/g, "$1"));
    }
  }
  return predicates;
}

/** A predicate as PostgreSQL prints it and as schema.prisma spells it, made comparable. */
export function normalizePredicate(predicate: string): string {
  let text = predicate.replaceAll('"', "").replace(/\s+/g, " ").trim();
  while (/^\(.*\)$/.test(text) && balancedInside(text)) text = text.slice(1, -1).trim();
  return text;
}

function balancedInside(text: string): boolean {
  let depth = 0;
  for (let i = 1; i < text.length - 1; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")" && --depth < 0) return false;
  }
  return depth === 0;
}

/** `Unsupported("type")` fields, which DMMF omits, as columns keyed by model. */
function unsupportedColumns(datamodel: string): Map<string, Map<string, ColumnShape>> {
  const columns = new Map<string, Map<string, ColumnShape>>();
  for (const [model, lines] of modelLines(datamodel)) {
    for (const line of lines) {
      const match = /^\s*(\w+)\s+Unsupported\("([^"]+)"\)(\?|\[\])?/.exec(line);
      if (!match) continue;
      const name = /@map\("([^"]+)"\)/.exec(line)?.[1] ?? match[1]!;
      const modelColumns = columns.get(model) ?? new Map<string, ColumnShape>();
      modelColumns.set(name, {
        type: `${match[2]}${match[3] === "[]" ? "[]" : ""}`,
        nullable: match[3] !== undefined,
        default: /@default\(/.test(line) ? ANY_DEFAULT : null,
      });
      columns.set(model, modelColumns);
    }
  }
  return columns;
}

// Prisma's operator class names (ArrayOps, JsonbPathOps) are PostgreSQL's in PascalCase.
function opclassName(prismaName: string): string {
  const raw = /^raw\("(.+)"\)$/i.exec(prismaName);
  if (raw) return raw[1]!;
  return prismaName.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** What the database should look like, according to a schema.prisma's text. */
export async function schemaFromPrisma(datamodel: string): Promise<SchemaShape> {
  const dmmf = (await internals.getDMMF({ datamodel })).datamodel as unknown as DmmfDatamodel;
  const enums = new Map(dmmf.enums.map((enumType) => [enumType.name, enumType]));
  const models = new Map(dmmf.models.map((model) => [model.name, model]));
  const tableOf = (modelName: string) => models.get(modelName)?.dbName ?? modelName;
  const columnOf = (model: DmmfModel, fieldName: string) =>
    model.fields.find((field) => field.name === fieldName)?.dbName ?? fieldName;
  const mappedRelations = relationConstraintNames(datamodel);
  const unsupported = unsupportedColumns(datamodel);
  const predicates = partialIndexPredicates(datamodel);
  const shape: SchemaShape = { tables: new Map(), indexes: new Map(), foreignKeys: new Map(), enums: new Map() };

  for (const enumType of dmmf.enums) {
    shape.enums.set(
      enumType.dbName ?? enumType.name,
      enumType.values.map((value) => value.dbName ?? value.name),
    );
  }

  for (const model of dmmf.models) {
    const table = tableOf(model.name);
    const columns = new Map<string, ColumnShape>();
    for (const field of model.fields) {
      if (field.kind === "object") continue;
      const type = columnType(field, enums);
      columns.set(field.dbName ?? field.name, {
        type,
        // Prisma Migrate creates list columns without NOT NULL, required or not.
        nullable: field.isList || !field.isRequired,
        default: expectedDefault(field, type, enums),
      });
    }
    for (const [name, column] of unsupported.get(model.name) ?? []) columns.set(name, column);
    shape.tables.set(table, { kind: "table", columns });

    for (const field of model.fields) {
      if (field.kind !== "object" || !field.relationFromFields?.length) continue;
      const target = models.get(field.type)!;
      const fromColumns = field.relationFromFields.map((name) => columnOf(model, name));
      const required = field.relationFromFields.every(
        (name) => model.fields.find((candidate) => candidate.name === name)?.isRequired,
      );
      const name = mappedRelations.get(`${model.name}.${field.name}`) ?? `${table}_${fromColumns.join("_")}_fkey`;
      shape.foreignKeys.set(name, {
        table,
        columns: fromColumns,
        referencedTable: tableOf(target.name),
        referencedColumns: (field.relationToFields ?? []).map((to) => columnOf(target, to)),
        // Prisma's defaults: Restrict for a required relation, SetNull for an optional one; Cascade on update.
        onDelete: REFERENTIAL_ACTIONS[field.relationOnDelete ?? (required ? "Restrict" : "SetNull")]!,
        onUpdate: REFERENTIAL_ACTIONS[field.relationOnUpdate ?? "Cascade"]!,
      });
    }
  }

  for (const index of dmmf.indexes) {
    const model = models.get(index.model)!;
    const table = tableOf(model.name);
    const columns = index.fields.map((field) => columnOf(model, field.name));
    const defaultName =
      index.type === "id"
        ? `${table}_pkey`
        : `${table}_${columns.join("_")}_${index.type === "unique" ? "key" : "idx"}`;
    const name = index.dbName ?? defaultName;
    shape.indexes.set(name, {
      table,
      kind: index.type === "id" ? "PRIMARY KEY" : index.type === "unique" ? "UNIQUE INDEX" : "INDEX",
      method: (index.algorithm ?? "BTree").toLowerCase(),
      columns: index.fields.map((field, position) => ({
        name: columns[position]!,
        descending: field.sortOrder === "desc",
        ...(field.operatorClass ? { opclass: opclassName(field.operatorClass) } : {}),
      })),
      predicate: predicates.get(name) ?? null,
    });
  }
  return shape;
}

const RELATION_KINDS: Record<string, string> = {
  r: "table",
  p: "partitioned table",
  v: "view",
  m: "materialized view",
  f: "foreign table",
};
const REFERENTIAL_ACTION_CODES = `CASE %s WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END`;

/** What a database really has in its `public` schema, besides Prisma's `_prisma_migrations`. */
export async function schemaFromDatabase(databaseUrl: string): Promise<SchemaShape> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const shape: SchemaShape = { tables: new Map(), indexes: new Map(), foreignKeys: new Map(), enums: new Map() };

    const relations = await client.query<{ name: string; kind: string }>(`
      SELECT c.relname AS name, c.relkind AS kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname <> '_prisma_migrations'`);
    for (const row of relations.rows) {
      shape.tables.set(row.name, { kind: RELATION_KINDS[row.kind] ?? row.kind, columns: new Map() });
    }

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
      JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relname <> '_prisma_migrations'
      ORDER BY c.relname, a.attnum`);
    for (const row of columns.rows) {
      const type = row.type.replaceAll('"', "");
      shape.tables.get(row.table)?.columns.set(row.column, {
        type,
        nullable: row.nullable,
        default: row.default === null ? null : canonicalDatabaseDefault(row.default, type),
      });
    }

    const indexes = await client.query<{
      name: string;
      table: string;
      unique: boolean;
      primary: boolean;
      method: string;
      predicate: string | null;
      columns: { name: string; descending: boolean; opclass: string; defaultOpclass: boolean }[];
    }>(`
      SELECT i.relname AS name, t.relname AS table, ix.indisunique AS unique, ix.indisprimary AS primary,
             am.amname AS method, pg_get_expr(ix.indpred, ix.indrelid) AS predicate,
             (SELECT json_agg(json_build_object(
                        'name', pg_get_indexdef(ix.indexrelid, k.position, true),
                        'descending', (ix.indoption[k.position - 1] & 1) = 1,
                        'opclass', oc.opcname,
                        'defaultOpclass', oc.opcdefault) ORDER BY k.position)
              FROM generate_series(1, ix.indnkeyatts) AS k(position)
              JOIN pg_opclass oc ON oc.oid = ix.indclass[k.position - 1]) AS columns
      FROM pg_index ix
      JOIN pg_class i ON i.oid = ix.indexrelid
      JOIN pg_class t ON t.oid = ix.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
      JOIN pg_am am ON am.oid = i.relam
      WHERE t.relname <> '_prisma_migrations'`);
    for (const row of indexes.rows) {
      shape.indexes.set(row.name, {
        table: row.table,
        kind: row.primary ? "PRIMARY KEY" : row.unique ? "UNIQUE INDEX" : "INDEX",
        method: row.method,
        columns: row.columns.map((column) => ({ ...column, name: column.name.replaceAll('"', "") })),
        predicate: row.predicate,
      });
    }

    const foreignKeys = await client.query<ForeignKeyShape & { name: string }>(`
      SELECT con.conname AS name, t.relname AS table, rt.relname AS "referencedTable",
             array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, position)
                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.position)::text[] AS columns,
             array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, position)
                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.position)::text[] AS "referencedColumns",
             ${REFERENTIAL_ACTION_CODES.replace("%s", "con.confdeltype")} AS "onDelete",
             ${REFERENTIAL_ACTION_CODES.replace("%s", "con.confupdtype")} AS "onUpdate"
      FROM pg_constraint con
      JOIN pg_class t ON t.oid = con.conrelid
      JOIN pg_class rt ON rt.oid = con.confrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
      WHERE con.contype = 'f'`);
    for (const { name, ...foreignKey } of foreignKeys.rows) shape.foreignKeys.set(name, foreignKey);

    const enums = await client.query<{ name: string; values: string[] }>(`
      SELECT t.typname AS name,
             array(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS values
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace AND n.nspname = 'public'
      WHERE t.typtype = 'e'`);
    for (const row of enums.rows) shape.enums.set(row.name, row.values);
    return shape;
  } finally {
    await client.end();
  }
}

function describeColumn(column: ColumnShape): string {
  const nullability = column.nullable ? "NULL" : "NOT NULL";
  return `${column.type} ${nullability}${column.default === null ? "" : ` DEFAULT ${column.default}`}`;
}

function describeIndexColumns(columns: IndexColumnShape[]): string {
  const parts = columns.map((column) => {
    const opclass = column.opclass && !column.defaultOpclass ? ` ${column.opclass}` : "";
    return `${column.name}${opclass}${column.descending ? " DESC" : ""}`;
  });
  return `(${parts.join(", ")})`;
}

function describeIndex(index: IndexShape): string {
  const where = index.predicate ? ` WHERE ${index.predicate}` : "";
  return `${index.kind} on "${index.table}" USING ${index.method} ${describeIndexColumns(index.columns)}${where}`;
}

function describeForeignKey(foreignKey: ForeignKeyShape): string {
  return `"${foreignKey.table}" (${foreignKey.columns.join(", ")}) REFERENCES "${foreignKey.referencedTable}" (${foreignKey.referencedColumns.join(", ")}) ON DELETE ${foreignKey.onDelete} ON UPDATE ${foreignKey.onUpdate}`;
}

function sameIndexColumns(expected: IndexColumnShape[], actual: IndexColumnShape[]): boolean {
  return (
    expected.length === actual.length &&
    expected.every((want, position) => {
      const have = actual[position]!;
      const opclassMatches = want.opclass ? want.opclass === have.opclass : have.defaultOpclass !== false;
      return want.name === have.name && want.descending === have.descending && opclassMatches;
    })
  );
}

/** Every way `actual` differs from `expected`, one readable sentence each; empty when they match. */
export function diffSchemas(expected: SchemaShape, actual: SchemaShape): string[] {
  const differences: string[] = [];
  const mismatch = (subject: string, want: string, have: string) =>
    differences.push(`${subject}: schema.prisma wants ${want}, the database has ${have}`);

  for (const [table, want] of expected.tables) {
    const have = actual.tables.get(table);
    if (!have) {
      differences.push(`table "${table}" is missing from the database`);
      continue;
    }
    if (have.kind !== want.kind) mismatch(`table "${table}"`, `a ${want.kind}`, `a ${have.kind}`);
    for (const [column, wantColumn] of want.columns) {
      const haveColumn = have.columns.get(column);
      const subject = `column "${table}"."${column}"`;
      if (!haveColumn) {
        differences.push(`${subject} is missing from the database (schema.prisma: ${describeColumn(wantColumn)})`);
        continue;
      }
      if (wantColumn.type !== haveColumn.type) mismatch(subject, `type ${wantColumn.type}`, `${haveColumn.type}`);
      if (wantColumn.nullable !== haveColumn.nullable)
        mismatch(subject, wantColumn.nullable ? "NULL" : "NOT NULL", haveColumn.nullable ? "NULL" : "NOT NULL");
      const defaultMatches =
        wantColumn.default === ANY_DEFAULT ? haveColumn.default !== null : wantColumn.default === haveColumn.default;
      if (!defaultMatches)
        mismatch(
          subject,
          wantColumn.default === null ? "no default" : `DEFAULT ${wantColumn.default}`,
          haveColumn.default === null ? "no default" : `DEFAULT ${haveColumn.default}`,
        );
    }
    for (const [column, haveColumn] of have.columns) {
      if (!want.columns.has(column))
        differences.push(
          `column "${table}"."${column}" is in the database (${describeColumn(haveColumn)}) but not in schema.prisma`,
        );
    }
  }
  for (const [table, have] of actual.tables) {
    if (!expected.tables.has(table))
      differences.push(`${have.kind} "${table}" is in the database but is not a model in schema.prisma`);
  }

  // Indexes and keys of a table reported missing or extra above would only repeat that line.
  const bothHaveTable = (table: string) => expected.tables.has(table) && actual.tables.has(table);

  for (const [name, want] of expected.indexes) {
    if (!bothHaveTable(want.table)) continue;
    const have = actual.indexes.get(name);
    const subject = `index "${name}"`;
    if (!have) {
      differences.push(`${subject} is missing from the database (schema.prisma: ${describeIndex(want)})`);
      continue;
    }
    if (have.table !== want.table) mismatch(subject, `it on "${want.table}"`, `it on "${have.table}"`);
    if (have.kind !== want.kind) mismatch(subject, want.kind, have.kind);
    if (have.method !== want.method) mismatch(subject, `USING ${want.method}`, `USING ${have.method}`);
    if (!sameIndexColumns(want.columns, have.columns))
      mismatch(subject, `columns ${describeIndexColumns(want.columns)}`, describeIndexColumns(have.columns));
    if (want.predicate === null && have.predicate !== null)
      mismatch(subject, "a full index", `a partial one WHERE ${have.predicate}`);
    else if (want.predicate !== null && have.predicate === null)
      mismatch(subject, `a partial index WHERE ${want.predicate}`, "a full one");
    else if (
      want.predicate !== null &&
      have.predicate !== null &&
      normalizePredicate(want.predicate) !== normalizePredicate(have.predicate)
    )
      mismatch(subject, `WHERE ${want.predicate}`, `WHERE ${have.predicate}`);
  }
  for (const [name, have] of actual.indexes) {
    if (!expected.indexes.has(name) && bothHaveTable(have.table))
      differences.push(`index "${name}" is in the database (${describeIndex(have)}) but not in schema.prisma`);
  }

  for (const [name, want] of expected.foreignKeys) {
    if (!bothHaveTable(want.table)) continue;
    const have = actual.foreignKeys.get(name);
    const subject = `foreign key "${name}"`;
    if (!have) {
      differences.push(`${subject} is missing from the database (schema.prisma: ${describeForeignKey(want)})`);
      continue;
    }
    if (have.onDelete !== want.onDelete) mismatch(subject, `ON DELETE ${want.onDelete}`, `ON DELETE ${have.onDelete}`);
    if (have.onUpdate !== want.onUpdate) mismatch(subject, `ON UPDATE ${want.onUpdate}`, `ON UPDATE ${have.onUpdate}`);
    const sameTarget =
      have.table === want.table &&
      have.referencedTable === want.referencedTable &&
      have.columns.join() === want.columns.join() &&
      have.referencedColumns.join() === want.referencedColumns.join();
    if (!sameTarget) mismatch(subject, describeForeignKey(want), describeForeignKey(have));
  }
  for (const [name, have] of actual.foreignKeys) {
    if (!expected.foreignKeys.has(name) && bothHaveTable(have.table))
      differences.push(
        `foreign key "${name}" is in the database (${describeForeignKey(have)}) but not in schema.prisma`,
      );
  }

  for (const [name, want] of expected.enums) {
    const have = actual.enums.get(name);
    if (!have) differences.push(`enum "${name}" is missing from the database (schema.prisma: ${want.join(", ")})`);
    else if (want.join("\n") !== have.join("\n"))
      mismatch(`enum "${name}"`, `values (${want.join(", ")})`, `(${have.join(", ")})`);
  }
  for (const [name, have] of actual.enums) {
    if (!expected.enums.has(name))
      differences.push(`enum "${name}" is in the database (${have.join(", ")}) but not in schema.prisma`);
  }
  return differences;
}

/** The differences as a list a developer can act on, for an assertion message. */
export function formatSchemaDifferences(differences: string[]): string {
  if (differences.length === 0) return "The database matches schema.prisma.";
  const lines = differences.map((difference) => `  - ${difference}`).join("\n");
  return `The migrated database differs from schema.prisma in ${differences.length} place(s); write a migration (or fix schema.prisma) for each:\n${lines}`;
}
