// The compose box's logic: a post is checked by the server's rules and handed to the outbox; the
// counter shows the length the server will count (without a proof suffix) near the limit.

import { Limits, classifyPost, countCharacters, normalisePost, validatePost } from './validate.js';

/**
 * The counter under the compose box: shown from 80 % of the limit, marked when over it.
 * @param {string} text as typed
 * @returns {{text: string, over: boolean}}
 */
export function composeCount(text) {
  const count = countCharacters(classifyPost(normalisePost(text)).body);
  const max = Limits.textMaxCharacters;
  return { text: count > max * 0.8 ? `${count} / ${max}` : '', over: count > max };
}

export class Composer {
  /**
   * @param {{outbox: import('./outbox.js').Outbox, page: import('./page-state.js').PageState}} options
   */
  constructor({ outbox, page }) {
    this.outbox = outbox;
    this.page = page;
  }

  /**
   * Posts what was typed, or says why not (the text stays in the box then).
   * @param {string} text
   * @returns {boolean} true when it went to the outbox: the box may be emptied
   */
  submit(text) {
    const check = validatePost(text);
    if (!check.ok) {
      this.page.setComposeError(check.message);
      return false;
    }
    try {
      this.outbox.post(check.text, { proof: check.proof });
    } catch (error) {
      this.page.setComposeError(error.message); // too many posts waiting
      return false;
    }
    this.page.setComposeError('');
    this.page.setComposeCount(composeCount(''));
    return true;
  }

  /** The text in the box changed. @param {string} text */
  typed(text) {
    if (this.page.composeError) this.page.setComposeError('');
    this.page.setComposeCount(composeCount(text));
  }
}
