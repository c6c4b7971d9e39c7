import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { MAX_CHOICES } from '../../src/commands/autocomplete.js';
import { createRouter, customId, defaultEphemeral, isAllowed, parseCustomId } from '../../src/commands/router.js';
import { OptionError, type ButtonHandler, type Command, type CommandDeps } from '../../src/commands/types.js';
import { recordingAutocomplete, recordingCommand, recordingComponent, testUser } from '../support/contexts.js';
import { testCommandDeps, testConfig } from '../support/deps.js';

const ROLE = '555555555555555555';

/** Handler deps over a test config with these sections. */
function deps(sections: Record<string, unknown> = {}): CommandDeps {
  return testCommandDeps(testConfig(sections));
}

/** Only members with ROLE may use `key`. */
const onlyRole = (key: string) => ({ commands: { permissions: { [key]: [ROLE] } } });

const echo: Command = {
  data: { name: 'echo', description: 'echo' },
  async execute(ctx) {
    if (ctx.options['text'] === 'bad') throw new OptionError('text', 'expected something else');
    if (ctx.options['text'] === 'boom') throw new Error('backend said discord-token-abcdefghijklmnop is wrong');
    if (ctx.options['text'] === 'slow') await new Promise((r) => setTimeout(r, 1800));
    await ctx.reply({ content: `echo ${String(ctx.options['text'])}` });
  },
};
const secret: Command = { ...echo, data: { name: 'secret', description: 'sensitive' }, sensitive: true };
const press: ButtonHandler = {
  action: 'press',
  async execute(ctx, ref) {
    await ctx.reply({ content: `pressed ${ref}` });
  },
};

describe('custom ids', () => {
  it("round-trips an action and an incident reference within Discord's 100 characters", () => {
    const id = customId('silence1h', 123456789);
    expect(id.length).toBeLessThanOrEqual(100);
    expect(parseCustomId(id)).toEqual({ action: 'silence1h', ref: '123456789' });
  });
  it.each(['other:thing:1', 'vigil:press', 'vigil:Press:1', 'vigil:press:{"a":1}', ''])('ignores %j', (id) => {
    expect(parseCustomId(id)).toBeUndefined();
  });
});

describe('permissions and defaults', () => {
  it.each([
    [[], {}, true],
    [[], { echo: [ROLE] }, false],
    [[ROLE], { echo: [ROLE] }, true],
    [['999999999999999999'], { echo: [ROLE] }, false],
    [[], { other: [ROLE] }, true],
  ])('roles %j with permissions %j -> allowed %s', (roles, permissions, allowed) => {
    expect(isAllowed(testUser(roles), 'echo', permissions)).toBe(allowed);
  });

  it.each([
    [echo, {}, true, false],
    [secret, {}, true, true],
    [secret, {}, false, false],
    [secret, { ephemeral: false }, true, false],
    [echo, { ephemeral: true }, false, true],
  ])('ephemeral default (%#)', (command, options, configDefault, expected) => {
    expect(defaultEphemeral(command, options, configDefault)).toBe(expected);
  });
});

describe('createRouter', () => {
  it('runs the command and answers with the default ephemeral flag', async () => {
    const router = createRouter([echo, secret], [], deps());
    const ctx = recordingCommand('secret', { text: 'hi' });
    await router.handleCommand(ctx);
    expect(ctx.calls).toEqual([{ kind: 'reply', payload: { content: 'echo hi' }, ephemeral: true }]);
  });

  it('refuses a user without an allowed role, ephemerally', async () => {
    const router = createRouter([echo], [], deps(onlyRole('echo')));
    const ctx = recordingCommand('echo', { text: 'hi' });
    await router.handleCommand(ctx);
    expect(ctx.calls).toHaveLength(1);
    expect(ctx.calls[0]).toMatchObject({ kind: 'reply', ephemeral: true, payload: { content: expect.stringMatching(/not allowed to use `\/echo`/) } });
  });

  it('answers an invalid option ephemerally, naming the option', async () => {
    const router = createRouter([echo], [], deps());
    const ctx = recordingCommand('echo', { text: 'bad' });
    await router.handleCommand(ctx);
    expect(ctx.calls).toEqual([{ kind: 'reply', payload: { content: '⚠️ text: expected something else' }, ephemeral: true }]);
  });

  it('reports an unexpected error without the secrets it held', async () => {
    const router = createRouter([echo], [], deps());
    const ctx = recordingCommand('echo', { text: 'boom' });
    await router.handleCommand(ctx);
    const content = ctx.lastReply()?.content ?? '';
    expect(content).toMatch(/^❌ \/echo failed: backend said \[redacted\] is wrong/);
    expect(content).not.toContain('discord-token-abcdefghijklmnop');
  });

  it("defers a handler that has not answered in time, before Discord's 3 s deadline", async () => {
    const router = createRouter([echo], [], deps());
    const ctx = recordingCommand('echo', { text: 'slow' });
    await router.handleCommand(ctx);
    expect(ctx.calls.map((c) => c.kind)).toEqual(['defer', 'reply']);
  });

  it('answers autocomplete with no choices when the command has none', async () => {
    const router = createRouter([echo], [], deps());
    const ctx = recordingAutocomplete('echo', { name: 'text', value: 'a' });
    await router.handleAutocomplete(ctx);
    expect(ctx.calls).toEqual([{ kind: 'respond', choices: [] }]);
  });

  it("passes on at most 25 autocomplete choices (Discord's limit), the first ones", async () => {
    const values = Array.from({ length: 40 }, (_, i) => `v${String(i).padStart(2, '0')}`);
    const many: Command = {
      ...echo,
      async autocomplete(ctx) {
        await ctx.respond(values.map((v) => ({ name: v, value: v })));
      },
    };
    const ctx = recordingAutocomplete('echo', { name: 'text', value: 'v' });
    await createRouter([many], [], deps()).handleAutocomplete(ctx);
    expect(MAX_CHOICES).toBe(25);
    expect(ctx.calls).toEqual([{ kind: 'respond', choices: values.slice(0, 25).map((v) => ({ name: v, value: v })) }]);
  });

  it('dispatches a button by its action and refuses unknown or forbidden ones', async () => {
    const router = createRouter([], [press], deps(onlyRole('buttons')));
    const allowed = recordingComponent(customId('press', 7), { user: testUser([ROLE]) });
    await router.handleComponent(allowed);
    expect(allowed.calls).toEqual([{ kind: 'reply', payload: { content: 'pressed 7' } }]);
    const forbidden = recordingComponent(customId('press', 7));
    await router.handleComponent(forbidden);
    expect(forbidden.calls[0]).toMatchObject({ kind: 'reply', ephemeral: true, payload: { content: expect.stringMatching(/not allowed/) } });
    const unknown = recordingComponent('vigil:nope:1', { user: testUser([ROLE]) });
    await router.handleComponent(unknown);
    expect(unknown.calls[0]).toMatchObject({ kind: 'reply', ephemeral: true });
  });
});

describe('command metrics', () => {
  /** The vigil_commands_total value for one label set. */
  async function counted(metrics: ReturnType<typeof createMetrics>, command: string, outcome: string): Promise<number | undefined> {
    const metric = await metrics.commands.get();
    return metric.values.find((v) => v.labels.command === command && v.labels.outcome === outcome)?.value;
  }

  it.each([
    ['a command that answers', 'echo', { text: 'hi' }, {}, 'answered'],
    ['an invalid option', 'echo', { text: 'bad' }, {}, 'option_error'],
    ['a handler error', 'echo', { text: 'boom' }, {}, 'failed'],
    ['a user without the role', 'echo', { text: 'hi' }, onlyRole('echo'), 'refused'],
  ])('counts %s under its name as %s', async (_what, name, options, sections, outcome) => {
    const metrics = createMetrics({ defaultMetrics: false });
    const router = createRouter([echo], [], { ...deps(sections), metrics });
    expect(await counted(metrics, name, 'answered')).toBe(0);
    await router.handleCommand(recordingCommand(name, options));
    expect(await counted(metrics, name, outcome)).toBe(1);
    if (outcome !== 'answered') expect(await counted(metrics, name, 'answered')).toBe(0);
  });

  it('counts a stale command name as "unknown" rather than under its own name', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const router = createRouter([echo], [], { ...deps(), metrics });
    await router.handleCommand(recordingCommand('gone', {}));
    expect(await counted(metrics, 'unknown', 'unknown')).toBe(1);
    expect(await counted(metrics, 'gone', 'unknown')).toBeUndefined();
  });

  it('counts button presses as button:<action>', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const router = createRouter([], [press], { ...deps(onlyRole('buttons')), metrics });
    await router.handleComponent(recordingComponent(customId('press', 7), { user: testUser([ROLE]) }));
    await router.handleComponent(recordingComponent(customId('press', 7)));
    await router.handleComponent(recordingComponent('vigil:nope:1', { user: testUser([ROLE]) }));
    expect(await counted(metrics, 'button:press', 'answered')).toBe(1);
    expect(await counted(metrics, 'button:press', 'refused')).toBe(1);
    expect(await counted(metrics, 'button:unknown', 'unknown')).toBe(1);
  });
});
