const isControl = (code: number) => code < 0x20 || code === 0x7f;

/** True when `text` holds a C0 control character (newline, tab, NUL, …) or DEL. */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isControl(text.charCodeAt(i))) return true;
  return false;
}

/** `text` with every control character replaced by `by`. */
export function replaceControlCharacters(text: string, by: string): string {
  let out = '';
  for (const char of text) out += isControl(char.charCodeAt(0)) ? by : char;
  return out;
}
