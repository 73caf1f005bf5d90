/**
 * The one error type the protocol layer throws. `field` names the input that was wrong, so a CLI,
 * the gateway and the tests can all say precisely what to fix without parsing the message.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly field: string,
    /** The message without the field name. */
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}
