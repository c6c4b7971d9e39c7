import { localeFor, threadsFor } from '../../config/routes.js';
import { translate, type Locale } from '../../i18n/index.js';
import { alertmanagerFromConfig } from '../../queries/alertmanager.js';
import { checkMatchers, MatcherSyntaxError, type SilenceMatcher } from '../../config/matchers.js';
import { escapeRegex, LABEL_NAME } from '../../queries/promql.js';
import { ALERT_ACTIONS } from '../../render/buttons.js';
import { matcherErrorText, renderButtonSilenced, renderSilencedNotice } from '../../render/silences.js';
import type { Incident } from '../../store/incidents.js';
import { incidentOfRef } from './incident.js';
import { enqueueThreadPost } from '../../store/outbox.js';
import { localeOf, tOf } from '../locale.js';
import { createdBy, silencePageUrl } from '../silence.js';
import type { ButtonHandler, ComponentContext } from '../types.js';

/** How long the button silences for. */
const BUTTON_SILENCE_MS = 3_600_000;
/** Labels naming where an alert fires, most telling first: the one listed when alerts share only their name. */
const WHERE_LABELS = ['instance', 'pod', 'container', 'name', 'host', 'service', 'job'];

const eq = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: false, isEqual: true });
/** A regex matching exactly these values (Alertmanager anchors it). */
const oneOf = (name: string, values: readonly string[]): SilenceMatcher => ({
  name,
  value: [...new Set(values)].sort().map(escapeRegex).join('|'),
  isRegex: true,
  isEqual: true,
});

/**
 * The matchers that silence exactly an incident's alerts (its firing ones; all of them if none is
 * still firing):
 * - one alert: every label, as equality matchers;
 * - several: the labels they all share, as equality matchers; alertname when not shared becomes
 *   `alertname=~"A|B"` (exact names); and when they share nothing but their name (and severity), the first
 *   instance-like label they all carry (instance, pod, container, name, host, service, job)
 *   becomes `instance=~"a|b|c"` with exactly their values, so other instances of the same alert
 *   keep notifying. Without such a label, the shared labels alone are used.
 * Labels whose names Alertmanager cannot match are left out. Undefined when no labels are stored.
 */
export function incidentMatchers(incident: Pick<Incident, 'alerts'>): SilenceMatcher[] | undefined {
  const all = Object.values(incident.alerts).filter((a) => a.labels && Object.keys(a.labels).length > 0);
  const firing = all.filter((a) => a.status === 'firing');
  const labelSets = (firing.length ? firing : all).map((a) => a.labels!);
  if (labelSets.length === 0) return undefined;
  const first = labelSets[0]!;
  const shared = Object.keys(first).filter((k) => LABEL_NAME.test(k) && labelSets.every((l) => l[k] === first[k]));
  const matchers = shared.map((k) => eq(k, first[k]!));
  if (labelSets.length > 1) {
    if (!shared.includes('alertname') && labelSets.every((l) => l.alertname))
      matchers.push(
        oneOf(
          'alertname',
          labelSets.map((l) => l.alertname!),
        ),
      );
    if (shared.every((k) => k === 'alertname' || k === 'severity')) {
      const where = WHERE_LABELS.find((k) => labelSets.every((l) => l[k]));
      if (where)
        matchers.push(
          oneOf(
            where,
            labelSets.map((l) => l[where]!),
          ),
        );
    }
  }
  return matchers.sort((a, b) => (a.name === 'alertname' ? -1 : b.name === 'alertname' ? 1 : a.name.localeCompare(b.name)));
}

/** A link to the alert message (when the guild is known), else its ids (in `locale`), for the silence's comment. */
export function messageReference(ctx: ComponentContext, locale: Locale = 'en'): string {
  const { guildId } = ctx;
  const { id, channelId } = ctx.message;
  return guildId
    ? `https://discord.com/channels/${guildId}/${channelId}/${id}`
    : translate(locale, 'commands.silence.button.messageIds', { id, channel: channelId });
}

/**
 * The **Silence 1h** button: silences the incident's alerts for an hour in Alertmanager (or Grafana's
 * built-in one), created by the presser, the comment linking the alert message. The presser gets the
 * id and end privately; the team gets a one-line note, in the incident's thread (or the channel without one).
 */
export const silenceButton = {
  action: ALERT_ACTIONS.silence,
  async execute(ctx, ref, deps) {
    // The presser's private answers in their language; the comment and the team's note in the alert route's.
    const t = tOf(ctx, deps);
    const am = alertmanagerFromConfig(deps.config, deps.config.enrichment.timeout);
    if (!am) {
      await ctx.reply({ content: t('commands.silence.noAlertmanager') }, { ephemeral: true });
      return;
    }
    const incident = await incidentOfRef(deps, ref);
    const matchers = incident && incidentMatchers(incident);
    if (!incident || !matchers) {
      await ctx.reply({ content: t(incident ? 'commands.silence.button.noLabels' : 'commands.silence.button.gone') }, { ephemeral: true });
      return;
    }
    try {
      checkMatchers(matchers);
    } catch (err) {
      if (!(err instanceof MatcherSyntaxError)) throw err;
      await ctx.reply({ content: t('commands.silence.button.tooBroad', { error: matcherErrorText(err, t) }) }, { ephemeral: true });
      return;
    }
    const routeLocale = localeFor(deps.config, incident.route);
    // Alertmanager may be slow: acknowledge now, answer with follow-ups.
    await ctx.deferUpdate();
    const startsAt = deps.now();
    const endsAt = new Date(startsAt.getTime() + BUTTON_SILENCE_MS);
    const comment = translate(routeLocale, 'commands.silence.button.comment', { link: messageReference(ctx, routeLocale) });
    const id = await am.createSilence({ matchers, startsAt, endsAt, createdBy: createdBy(ctx.user), comment });
    deps.logger.info({ incidentId: incident.id, silenceId: id, matchers: matchers.length }, 'incident silenced from button');
    const url = silencePageUrl(deps.config, id);
    await ctx.followUp(renderButtonSilenced({ id, matchers, endsAt, ...(url ? { url } : {}), locale: localeOf(ctx, deps) }), { ephemeral: true });
    const notice = renderSilencedNotice(ctx.user.username, id, endsAt, routeLocale);
    // With threads the team reads it in the incident's thread (durably, through the outbox); else beside the alert.
    const announced =
      threadsFor(deps.config, incident.route) && incident.createOutboxId !== undefined
        ? (await enqueueThreadPost(deps.db, incident.id, incident.createOutboxId, { ...notice, allowed_mentions: { parse: [] } }, deps.now().getTime())) !==
          undefined
        : false;
    if (!announced) await ctx.followUp(notice, { ephemeral: false });
  },
} satisfies ButtonHandler;
