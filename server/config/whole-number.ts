// The one parser of whole-number settings, shared by every block of settings (config.ts and the
// blocks under config/), so a bad value reads the same whichever setting it is.

/** A parser of a whole number within min..max, with the message every setting uses. */
export const wholeNumber = (min: number, max: number) => (text: string): number => {
  if (!/^\d+$/.test(text.trim())) throw new Error(`"${text}" is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw new Error(`${n} is outside ${min}..${max}`);
  return n;
};
