/** Bad command-line input: printed as one line naming the argument, exit status 2, no stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
