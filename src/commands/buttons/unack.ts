import { localeFor, routeNamed, threadsFor } from '../../config/routes.js';
import { translate } from '../../i18n/index.js';
import { escapeMarkdown } from '../../render/format.js';
import { alertButtons } from '../../render/buttons.js';
import { withAcknowledgement } from '../../render/alert.js';
import { warnTo } from '../../render/truncate.js';
import { unacknowledge } from '../../store/acks.js';
import { resumeEscalation } from '../../store/escalations.js';
import { incidentOfRef } from './incident.js';
import { getIncident } from '../../store/incidents.js';
import { enqueueThreadPost, rewritePendingEdits } from '../../store/outbox.js';
import type { APIEmbed } from 'discord-api-types/v10';
import { tOf } from '../locale.js';
import type { ButtonHandler } from '../types.js';

/**
 * The Unacknowledge button: gives an acknowledged incident back. The alert message loses its
 * "Acknowledged by" line and shows Acknowledge again, the thread says who gave it back, and an
 * escalation that the acknowledgement stopped takes up again one interval later.
 */
export const unackButton = {
  action: 'unack',
  async execute(ctx, ref, deps) {
    // The presser is answered in their language; the alert message and its thread stay in the route's.
    const t = tOf(ctx, deps);
    const incident = await incidentOfRef(deps, ref);
    if (!incident) {
      await ctx.reply({ content: t('commands.unack.gone') }, { ephemeral: true });
      return;
    }
    if (incident.status === 'resolved') {
      await ctx.reply({ content: t('commands.unack.resolved') }, { ephemeral: true });
      return;
    }
    const now = deps.now();
    const locale = localeFor(deps.config, incident.route);
    // One transaction, the incident locked (PostgreSQL): an Acknowledge on another replica comes wholly before or after.
    const { removed, resumed } = await deps.db.transaction(async () => {
      await getIncident(deps.db, incident.id, { lock: true });
      const removed = await unacknowledge(deps.db, incident.id);
      const escalation = routeNamed(deps.config.routes, incident.route)?.escalation;
      const resumed = removed && escalation ? await resumeEscalation(deps.db, incident.id, new Date(now.getTime() + escalation.after)) : false;
      if (removed && incident.createOutboxId !== undefined) {
        await rewritePendingEdits(deps.db, incident.createOutboxId, (body) =>
          Array.isArray(body.embeds) ? { ...body, embeds: withAcknowledgement(body.embeds as APIEmbed[], undefined, warnTo(deps.logger), locale) } : body,
        );
      }
      return { removed, resumed };
    });
    if (!removed) {
      await ctx.reply({ content: t('commands.unack.notAcknowledged') }, { ephemeral: true });
      return;
    }
    deps.logger.info({ incidentId: incident.id, userId: ctx.user.id, escalationResumed: resumed }, 'incident unacknowledged');
    const components = alertButtons(incident.id, 'firing', incident.source, locale);
    const note = {
      content: translate(locale, resumed ? 'commands.unack.noteResumed' : 'commands.unack.note', { user: escapeMarkdown(ctx.user.username) }),
      allowed_mentions: { parse: [] },
    };
    const announced =
      threadsFor(deps.config, incident.route) && incident.createOutboxId !== undefined
        ? (await enqueueThreadPost(deps.db, incident.id, incident.createOutboxId, note, now.getTime())) !== undefined
        : false;
    if (!ctx.message.embeds.length) {
      await ctx.updateMessage({ components });
      if (!announced) await ctx.followUp({ content: note.content }, { ephemeral: false });
      return;
    }
    await ctx.updateMessage({ embeds: withAcknowledgement(ctx.message.embeds, undefined, warnTo(deps.logger), locale), components });
  },
} satisfies ButtonHandler;
