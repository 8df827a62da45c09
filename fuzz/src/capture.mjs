// What one output stream of a case wrote: the first part of the text, and facts about all of it (its size, its
// longest line, its line count, the first raw control character) so that a large output is judged whole.

/** Control characters other than tab and newline: C0 (with CR and ESC), DEL and C1. */
export const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

const KEEP = 64 * 1024;

export class Capture {
  constructor() {
    this.head = '';
    this.bytes = 0;
    this.lines = 0;
    this.longest = 0;
    this.lineLength = 0;
    this.control = null;
  }

  add(text) {
    if (this.head.length < KEEP) this.head += text.slice(0, KEEP - this.head.length);
    if (this.control === null) {
      const m = CONTROL.exec(text);
      if (m) {
        const at = this.bytes + m.index;
        this.control = { code: m[0].charCodeAt(0), at, context: text.slice(Math.max(0, m.index - 60), m.index + 40) };
      }
    }
    this.bytes += text.length;
    let start = 0;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
      this.longest = Math.max(this.longest, this.lineLength + i - start);
      this.lineLength = 0;
      this.lines++;
      start = i + 1;
    }
    this.lineLength += text.length - start;
    this.longest = Math.max(this.longest, this.lineLength);
  }

  /** A plain object for the main thread; `map` rewrites paths in the kept text. */
  result(map = (t) => t) {
    const control = this.control && { ...this.control, context: JSON.stringify(map(this.control.context)) };
    return {
      text: map(this.head),
      truncated: this.bytes > this.head.length,
      chars: this.bytes,
      lines: this.lines + (this.lineLength > 0 ? 1 : 0),
      longest: this.longest,
      control,
    };
  }
}
