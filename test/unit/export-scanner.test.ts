import { ExportSyntaxError, scanExport } from '../../src/cli/export-scanner';
import type { ExportEntry } from '../../src/cli/export-scanner';

/** The text cut into pieces of `size` bytes (1: every value crosses a chunk boundary). */
async function* chunks(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) {
    await Promise.resolve();
    yield bytes.subarray(i, i + size);
  }
}

async function scan(text: string, size: number): Promise<ExportEntry[]> {
  const entries: ExportEntry[] = [];
  for await (const entry of scanExport(chunks(text, size))) entries.push(entry);
  return entries;
}

const SIZES = [1, 2, 3, 7, 64, 1 << 20];

describe('scanExport', () => {
  it.each(SIZES)('hands over settings and each user whole, in document order (chunks of %i bytes)', async (size) => {
    const user = { id: 'u-1', username: 'añna "the }[ one"', attributes: { 'a\\b': ['{', ']', '\\"'] }, n: -1.5e3, ok: true, none: null };
    const text = `\uFEFF {\n  "id" : "r1",\n  "realm" : "acme",\n  "roles" : { "realm" : [ ] },\n  "users" : [ ${JSON.stringify(user)}, "text", 12, [1, [2]] ],\n  "keycloakVersion" : "26.1.4",\n  "n": 7\n}\n`;
    await expect(scan(text, size)).resolves.toEqual([
      { kind: 'setting', key: 'id', value: 'r1' },
      { kind: 'setting', key: 'realm', value: 'acme' },
      { kind: 'setting', key: 'roles', value: { realm: [] } },
      { kind: 'users' },
      // bytes: each element's length in the document, in UTF-8 (ñ is two).
      { kind: 'user', index: 0, bytes: Buffer.byteLength(JSON.stringify(user)), value: user },
      { kind: 'user', index: 1, bytes: 6, value: 'text' },
      { kind: 'user', index: 2, bytes: 2, value: 12 },
      { kind: 'user', index: 3, bytes: 8, value: [1, [2]] },
      { kind: 'setting', key: 'keycloakVersion', value: '26.1.4' },
      { kind: 'setting', key: 'n', value: 7 },
    ]);
  });

  it.each(SIZES)('reports a user that is not JSON by its index and goes on (chunks of %i bytes)', async (size) => {
    const entries = await scan('{"realm": "r", "users": [{"a": 1}, {"a": }, {"a": 3}], "x": []}', size);
    expect(entries.map((e) => (e.kind === 'user' ? [e.index, e.bytes, e.value ?? e.error?.slice(0, 8)] : e.kind))).toEqual(['setting', 'users', [0, 8, { a: 1 }], [1, 7, 'not JSON'], [2, 8, { a: 3 }], 'setting']);
  });

  it('reads an empty users list and an empty object', async () => {
    await expect(scan('{"realm":"r","users":[]}', 3)).resolves.toEqual([{ kind: 'setting', key: 'realm', value: 'r' }, { kind: 'users' }]);
    await expect(scan('{ }', 1)).resolves.toEqual([]);
  });

  it.each([
    ['a list', '[{"realm": "r"}]', 'the document is a list, not an object at byte 0', true],
    ['not JSON', 'realm: r', 'expected a JSON object, found "r" at byte 0', false],
    ['nothing', '  ', 'the document is empty at byte 2', false],
    ['a break-off inside users', '{"realm": "r", "users": [{"a": 1}, {"a"', 'the document ends inside "users", after 1 users at byte 39', false],
    ['a break-off inside a setting', '{"realm": "r", "roles": {"realm": [', 'the document ends inside "roles" at byte 24', false],
    ['a break-off before the closing brace', '{"realm": "r"', 'the document ends before its closing "}" at byte 13', false],
    ['a missing colon', '{"realm" "r"}', 'expected ":", found "\\"" at byte 9', false],
    ['a missing comma', '{"realm": "r" "users": []}', 'expected "," or "}", found "\\"" at byte 14', false],
    ['a setting that is not JSON', '{"realm": tru}', '"realm" is not JSON', false],
    ['text after the end', '{"realm": "r"} {}', 'expected nothing after the closing "}", found "{" at byte 15', false],
  ])('refuses %s, saying where', async (_case, text, message, list) => {
    for (const size of [1, 1 << 20]) {
      const error = await scan(text, size).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ExportSyntaxError);
      expect((error as ExportSyntaxError).message).toContain(message);
      expect((error as ExportSyntaxError).list).toBe(list);
    }
  });
});
