import { describe, expect, it } from 'vitest';
import { EXTERNAL_TOOLS, missingToolsBanner } from './missing-tools-reporter.js';

describe('missing tools banner', () => {
  it('names each missing tool and how to install it, and says SKIPPED, NOT PASSED', () => {
    const banner = missingToolsBanner(EXTERNAL_TOOLS.slice(0, 2));
    expect(banner).toContain('2 EXTERNAL TOOL(S) MISSING');
    expect(banner).toContain('SKIPPED, NOT PASSED');
    expect(banner).toContain('google-cloud-cli-pubsub-emulator');
    expect(banner).toContain('firebase-tools');
  });

});
