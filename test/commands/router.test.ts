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

describe('the language of the router’s own answers', () => {
  const inKo = (roles: string[] = []) => ({ ...testUser(roles), locale: 'ko' });
  const koDeps = (sections: Record<string, unknown> = {}) => deps({ locale: 'ko', ...sections });

  it.each([
    ['ko', deps(), '⚠️ text: expected something else'],
    ['en-US', koDeps(), '⚠️ text: expected something else'],
  ])('shows an option error told as plain text as it is (a client in %s)', async (locale, d, content) => {
    const ctx = recordingCommand('echo', { text: 'bad' }, { user: { ...testUser(), locale } });
    await createRouter([echo], [], d).handleCommand(ctx);
    expect(ctx.lastReply()?.content).toBe(content);
  });

  it.each([
    ['ko', 'en', '⚠️ text: 1~25 사이의 정수가 필요합니다', '❌ /echo 실패: backend said [redacted] is wrong'],
    ['en-US', 'ko', '⚠️ text: expected an integer from 1 to 25', '❌ /echo failed: backend said [redacted] is wrong'],
    ['ja', 'ko', '⚠️ text: 1~25 사이의 정수가 필요합니다', '❌ /echo 실패: backend said [redacted] is wrong'],
    ['ja', 'en', '⚠️ text: expected an integer from 1 to 25', '❌ /echo failed: backend said [redacted] is wrong'],
  ] as const)('answers a client in %s (config %s) in its language: option errors and failures', async (locale, configured, option, failure) => {
    const localized: Command = {
      ...echo,
      async execute(ctx) {
        if (ctx.options['text'] === 'bad') throw new OptionError('text', { key: 'commands.top.error.limit', values: { max: 25 } });
        return echo.execute(ctx, deps());
      },
    };
    const router = createRouter([localized], [], deps({ locale: configured }));
    const bad = recordingCommand('echo', { text: 'bad' }, { user: { ...testUser(), locale } });
    await router.handleCommand(bad);
    expect(bad.calls).toEqual([{ kind: 'reply', payload: { content: option }, ephemeral: true }]);
    const boom = recordingCommand('echo', { text: 'boom' }, { user: { ...testUser(), locale } });
    await router.handleCommand(boom);
    expect(boom.lastReply()?.content).toBe(failure);
  });

  it('keeps the English text of a localized option error for the logs', () => {
    const err = new OptionError('limit', { key: 'commands.top.error.limit', values: { max: 25 } });
    expect(err.message).toBe('limit: expected an integer from 1 to 25');
  });

  it('refuses commands and buttons, and names unknown ones, in the user’s language', async () => {
    const router = createRouter([echo], [press], koDeps({ ...onlyRole('echo'), commands: { permissions: { echo: [ROLE], buttons: [ROLE] } } }));
    const refused = recordingCommand('echo', { text: 'hi' }, { user: inKo() });
    await router.handleCommand(refused);
    expect(refused.lastReply()?.content).toBe('⛔ `/echo` 명령을 쓸 권한이 없습니다: `commands.permissions`에 설정된 역할 중 하나가 필요합니다.');
    const unknown = recordingCommand('gone', {}, { user: { ...testUser(), locale: 'en-US' } });
    await router.handleCommand(unknown);
    expect(unknown.lastReply()?.content).toBe('Unknown command `/gone`. Run `vigil register-commands` again?');
    const button = recordingComponent(customId('press', 7), { user: inKo() });
    await router.handleComponent(button);
    expect(button.calls[0]).toMatchObject({
      payload: { content: '⛔ 이 버튼을 쓸 권한이 없습니다: `commands.permissions`에 설정된 역할 중 하나가 필요합니다.' },
    });
    const stale = recordingComponent('vigil:nope:1', { user: inKo([ROLE]) });
    await router.handleComponent(stale);
    expect(stale.calls[0]).toMatchObject({ payload: { content: '이 Vigil이 처리하지 않는 버튼입니다 (오래된 메시지일 수 있습니다).' } });
  });
});
