/**
 * The `ledger` command's surface: every command the README and the issue name exists, has a description, and
 * answers `--help` with its usage (exit code 0, nothing touched); an unknown command is an error.
 */
import type { Command } from 'commander';
import { buildProgram } from './main';

const EXPECTED = [
  'scenario run',
  'state',
  'replay',
  'verify',
  'rebuild',
  'export',
  'import',
  'apply',
  'bench',
  'sim',
  'keys add',
  'parked list',
  'parked retry',
  'keys revoke',
  'keys list',
];

function leaves(program: Command, prefix = ''): Map<string, Command> {
  const out = new Map<string, Command>();
  for (const c of program.commands) {
    const name = `${prefix}${c.name()}`;
    if (c.commands.length > 0) for (const [k, v] of leaves(c, `${name} `)) out.set(k, v);
    else out.set(name, c);
  }
  return out;
}

function run(argv: string[]): { code: number; out: string } {
  const program = buildProgram();
  let out = '';
  const silence = (p: Command): void => {
    p.exitOverride();
    p.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
    p.commands.forEach(silence);
  };
  silence(program);
  try {
    program.parse(['node', 'ledger', ...argv]);
    return { code: 0, out };
  } catch (error) {
    const e = error as { exitCode?: number };
    return { code: e.exitCode ?? 1, out };
  }
}

describe('ledger CLI', () => {
  const commands = leaves(buildProgram());

  it('has every command', () => {
    expect([...commands.keys()].sort()).toEqual([...EXPECTED].sort());
  });

  it.each(EXPECTED)('%s has a description and --help', (name) => {
    expect(commands.get(name)?.description().length).toBeGreaterThan(10);
    const help = run([...name.split(' '), '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain(`Usage: ledger ${name}`);
  });

  it('rejects an unknown command', () => {
    const result = run(['frobnicate']);
    expect(result.code).not.toBe(0);
    expect(result.out).toMatch(/unknown command/);
  });
});
