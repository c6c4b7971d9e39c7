import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as limits from '../../src/render/limits.js';

interface SchemaProp {
  maxLength?: number;
  maxItems?: number;
}
const spec = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/discord/openapi.json', import.meta.url)), 'utf8')) as {
  components: { schemas: Record<string, { properties: Record<string, SchemaProp> }> };
};
const prop = (schema: string, name: string): SchemaProp => spec.components.schemas[schema]!.properties[name]!;

describe("Discord limits agree with Discord's OpenAPI spec", () => {
  it.each([
    ['EMBED_TITLE', prop('RichEmbed', 'title').maxLength],
    ['EMBED_DESCRIPTION', prop('RichEmbed', 'description').maxLength],
    ['EMBED_FIELDS', prop('RichEmbed', 'fields').maxItems],
    ['EMBED_URL', prop('RichEmbed', 'url').maxLength],
    ['EMBED_FIELD_NAME', prop('RichEmbedField', 'name').maxLength],
    ['EMBED_FIELD_VALUE', prop('RichEmbedField', 'value').maxLength],
    ['EMBED_FOOTER_TEXT', prop('RichEmbedFooter', 'text').maxLength],
    ['EMBED_AUTHOR_NAME', prop('RichEmbedAuthor', 'name').maxLength],
    ['MESSAGE_EMBEDS', prop('MessageCreateRequest', 'embeds').maxItems],
    ['ATTACHMENT_DESCRIPTION', prop('MessageAttachmentRequest', 'description').maxLength],
  ] as const)('%s is %i', (name, specValue) => {
    expect(limits[name]).toBe(specValue);
  });

  it('keeps message content at the documented 2000 although the preview spec allows more', () => {
    // The spec says 4000 (Nitro users' limit); the create-message docs say 2000 for bots. The docs win.
    expect(prop('MessageCreateRequest', 'content').maxLength).toBeGreaterThanOrEqual(limits.MESSAGE_CONTENT);
    expect(limits.MESSAGE_CONTENT).toBe(2000);
  });
});
