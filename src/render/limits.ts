// Discord's size limits for a message and its embeds. Lengths are counted in Unicode code points
// (Discord's API is Python and uses len(), confirmed by staff in discord/discord-api-docs#1315).

/** Embed title: 256 characters. https://discord.com/developers/docs/resources/message#embed-object-embed-limits */
export const EMBED_TITLE = 256;

/** Embed description: 4096 characters. https://discord.com/developers/docs/resources/message#embed-object-embed-limits */
export const EMBED_DESCRIPTION = 4096;

/** Fields per embed: 25. https://discord.com/developers/docs/resources/message#embed-object-embed-limits */
export const EMBED_FIELDS = 25;

/** Embed field name: 256 characters. https://discord.com/developers/docs/resources/message#embed-object-embed-limits */
export const EMBED_FIELD_NAME = 256;

/** An attachment's description (a chart's alt text): 1024 characters. https://discord.com/developers/docs/resources/message#attachment-object */
export const ATTACHMENT_DESCRIPTION = 1024;
/** Embed field value: 1024 characters. https://discord.com/developers/docs/resources/message#embed-object-embed-limits */
export const EMBED_FIELD_VALUE = 1024;

/** Embed footer text: 2048 characters. https://discord.com/developers/docs/resources/message#embed-object-embed-limits */
export const EMBED_FOOTER_TEXT = 2048;

/** Embed author name: 256 characters. https://discord.com/developers/docs/resources/message#embed-object-embed-limits */
export const EMBED_AUTHOR_NAME = 256;

/**
 * Sum of title, description, field names and values, footer text and author name over ALL embeds
 * of one message: 6000 characters. https://discord.com/developers/docs/resources/message#embed-object-embed-limits
 */
export const EMBED_TOTAL = 6000;

/** Embed URL (title link): 2048 characters, per `RichEmbed.url.maxLength` in Discord's OpenAPI spec (test/fixtures/discord/openapi.json). */
export const EMBED_URL = 2048;

/** Message content: 2000 characters. https://discord.com/developers/docs/resources/message#create-message */
export const MESSAGE_CONTENT = 2000;

/** Embeds per message: 10. https://discord.com/developers/docs/resources/message#create-message */
export const MESSAGE_EMBEDS = 10;
