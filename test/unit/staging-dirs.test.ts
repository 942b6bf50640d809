// Issue #15 item 2: the jar `--mode cli` copies into the jobmanager with `sudo docker cp` is staged in a fresh
// `mktemp -d` directory (0700, unguessable), never in a fixed /tmp/fridge-jobs another local user could own.
import { describe, expect, it } from 'vitest';
import { mktempCommand } from '../../tasks/lib/transport/staging.ts';

// The jar staging of flink run (--mode cli) itself is tested in steps-flink-cli.test.ts.
describe('jar staging for flink run (--mode cli)', () => {
  it('quotes a chosen parent for POSIX sh', () => {
    expect(mktempCommand('fridge-upload', "/srv/my dir")).toBe(`mktemp -d '/srv/my dir'/fridge-upload.XXXXXXXXXX`);
  });
});
