// The language of an interaction's answers, and the registration texts of the slash commands.
import { localeOfDiscord, translate, translator, type Locale, type MessageKey, type MessageValue, type T } from '../i18n/index.js';
import type { CommandDeps, InteractionUser } from './types.js';

/** The language to answer an interaction in: the user's Discord client's when Vigil speaks it, else the configured `locale`. */
export function localeOf(ctx: { user: Pick<InteractionUser, 'locale'> }, deps: Pick<CommandDeps, 'config'>): Locale {
  return localeOfDiscord(ctx.user.locale, deps.config.locale);
}

/** The translator of an interaction: every word of its answers goes through it. */
export function tOf(ctx: { user: Pick<InteractionUser, 'locale'> }, deps: Pick<CommandDeps, 'config'>): T {
  return translator(localeOf(ctx, deps));
}

/** A registered description: the English text and its Korean localization, from one catalog key. */
export function described(key: MessageKey, values?: Record<string, MessageValue>): { description: string; description_localizations: { ko: string } } {
  return { description: translate('en', key, values), description_localizations: { ko: translate('ko', key, values) } };
}

/** A registered choice: its value, its English name and the Korean localization of the name, from one catalog key. */
export function choice<V extends string>(key: MessageKey, value: V): { name: string; name_localizations: { ko: string }; value: V } {
  return { name: translate('en', key), name_localizations: { ko: translate('ko', key) }, value };
}
