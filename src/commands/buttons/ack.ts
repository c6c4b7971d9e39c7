import { localeFor, threadsFor } from '../../config/routes.js';
import { translate } from '../../i18n/index.js';
import { discordTimestamp, escapeMarkdown } from '../../render/format.js';
import { alertButtons } from '../../render/buttons.js';
import { withAcknowledgement } from '../../render/alert.js';
import { warnTo } from '../../render/truncate.js';
import { acknowledge } from '../../store/acks.js';
import { getIncident } from '../../store/incidents.js';
import { incidentOfRef } from './incident.js';
import { enqueueThreadPost, rewritePendingEdits } from '../../store/outbox.js';
import type { APIEmbed } from 'discord-api-types/v10';
import { tOf } from '../locale.js';
import type { ButtonHandler } from '../types.js';

/**
 * The Acknowledge button: records who took the incident and when (the first press wins) and
 * shows it on the alert message for everyone; a later press only tells the presser who has it.
 */
export const ackButton = {
  action: 'ack',
  async execute(ctx, ref, deps) {
    // The presser is answered in their language; the alert message and its thread stay in the route's.
    const t = tOf(ctx, deps);
    const incident = await incidentOfRef(deps, ref);
    if (!incident) {
      await ctx.reply({ content: t('commands.ack.gone') }, { ephemeral: true });
      return;
    }
    if (incident.status === 'resolved') {
      await ctx.reply({ content: t('commands.ack.resolved') }, { ephemeral: true });
      return;
    }
    const locale = localeFor(deps.config, incident.route);
    // The ack and the pending edits it changes in one transaction, the incident locked (PostgreSQL):
    // an Unacknowledge on another replica comes wholly before or after, never between.
    const outcome = await deps.db.transaction(async () => {
      await getIncident(deps.db, incident.id, { lock: true });
      const done = await acknowledge(deps.db, incident.id, { userId: ctx.user.id, username: ctx.user.username, at: deps.now() });
      // Edits already waiting (held during a storm) were rendered before the click: they show it too.
      if (done.recorded && incident.createOutboxId !== undefined) {
        await rewritePendingEdits(deps.db, incident.createOutboxId, (body) =>
          Array.isArray(body.embeds)
            ? {
                ...body,
                embeds: withAcknowledgement(body.embeds as APIEmbed[], { userId: done.ack.userId, at: done.ack.at }, warnTo(deps.logger), locale),
              }
            : body,
        );
      }
      return done;
    });
    const { ack } = outcome;
    if (!outcome.recorded) {
      // A name, not a mention: a reply's mentions could ping.
      const when = discordTimestamp(ack.at, 'R');
      const content =
        ack.userId === ctx.user.id ? t('commands.ack.alreadyByYou', { when }) : t('commands.ack.alreadyBy', { user: escapeMarkdown(ack.username), when });
      await ctx.reply({ content }, { ephemeral: true });
      return;
    }
    deps.logger.info({ incidentId: incident.id, userId: ack.userId }, 'incident acknowledged');
    const components = alertButtons(incident.id, 'acknowledged', incident.source, locale);
    const note = {
      content: translate(locale, 'commands.ack.note', { user: escapeMarkdown(ack.username), when: discordTimestamp(ack.at, 'R') }),
      allowed_mentions: { parse: [] },
    };
    // Announced in the incident's thread through the outbox: durable, in order with the incident's other posts.
    const announced =
      threadsFor(deps.config, incident.route) && incident.createOutboxId !== undefined
        ? (await enqueueThreadPost(deps.db, incident.id, incident.createOutboxId, note, deps.now().getTime())) !== undefined
        : false;
    if (!ctx.message.embeds.length) {
      // Without the embeds the transport gave, an edit would blank the alert: say it beside it instead.
      await ctx.updateMessage({ components });
      if (!announced) await ctx.followUp({ content: note.content }, { ephemeral: false });
      return;
    }
    await ctx.updateMessage({
      embeds: withAcknowledgement(ctx.message.embeds, { userId: ack.userId, at: ack.at }, warnTo(deps.logger), locale),
      components,
    });
  },
} satisfies ButtonHandler;
