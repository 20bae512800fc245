/** The command line's wording: counts with their plurals, and the option meant by a mistyped one. */
import { describe, expect, it } from 'vitest';
import { nearestOption } from '../../src/cli/args.js';
import { counted } from '../../src/cli/words.js';

describe('counted', () => {
  it('says 1 short and 2 shorts, 1 spectrum and 8 spectra, with thousands separated', () => {
    expect([counted(0, 'short'), counted(1, 'short'), counted(2, 'short')]).toEqual(['0 shorts', '1 short', '2 shorts']);
    expect([counted(1, 'spectrum', 'spectra'), counted(8, 'spectrum', 'spectra')]).toEqual(['1 spectrum', '8 spectra']);
    expect(counted(1588, 'half cycle')).toBe('1,588 half cycles');
  });
});

describe('nearestOption', () => {
  const options = ['--out', '--cells', '--area-cm2', '--set-current-mA', '--start', '--tz', '--salvage'];
  it('finds the option a prefix, a missing unit or a typo meant, and nothing for a stranger', () => {
    expect(nearestOption('--area', options)).toBe('--area-cm2');
    expect(nearestOption('--set-current', options)).toBe('--set-current-mA');
    expect(nearestOption('--cels', options)).toBe('--cells');
    expect(nearestOption('--salvge', options)).toBe('--salvage');
    expect(nearestOption('--bogus', options)).toBeNull();
  });
});
