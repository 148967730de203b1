/**
 * A study's values as JSON brings them, before they are checked: Kale writes every number as a
 * string (`"0.1"`), settings come as a record or as Katib's list of `{name, value}`.
 */

export type JsonRecord = Record<string, unknown>;

export function isJsonRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A finite number, or a string that reads as one; else undefined. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A setting's text: strings as they are, numbers and booleans printed, anything else as JSON. */
function settingText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Settings as text by name, from a record or from Katib's `[{name, value}]` list. */
export function toStringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const item of value)
      if (isJsonRecord(item) && typeof item.name === 'string' && item.value !== undefined)
        out[item.name] = settingText(item.value);
  } else if (isJsonRecord(value)) {
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = settingText(v);
  }
  return out;
}
