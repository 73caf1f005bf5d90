// Checks an API answer against its type in protocol/api.ts: the compiler holds each field list
// below to the type (no field missing, none extra, optional exactly where the type says), and the
// test holds the answer to the list.
import assert from 'node:assert/strict';

export type FieldPresence<T> = { [K in keyof T]-?: undefined extends T[K] ? 'optional' : 'required' };

/** Every field of `body` is one the type declares, and every field the type requires is there. */
export function assertFields<T>(body: unknown, fields: FieldPresence<T>, what: string): void {
  assert.ok(typeof body === 'object' && body !== null && !Array.isArray(body), `${what} is a JSON object`);
  const declared = fields as Record<string, 'optional' | 'required'>;
  const sent = Object.keys(body);
  assert.deepEqual(sent.filter((key) => !(key in declared)), [], `${what} sends only the fields its type declares`);
  assert.deepEqual(Object.keys(declared).filter((key) => declared[key] === 'required' && !sent.includes(key)), [], `${what} sends every field its type requires`);
}
