import { figureFont } from '../../src/report/figures.js';

/** Whether this machine has a font for the figures (the figure tests are skipped without one). */
export const haveFont = ((): boolean => {
  try {
    figureFont();
    return true;
  } catch {
    return false;
  }
})();
