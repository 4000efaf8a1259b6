/**
 * Errors raised by the pure parsers. A parser never throws anything else for
 * bad input, so the socket layer can close exactly the offending connection
 * with one log line naming `code`.
 */
export type ProtocolErrorCode =
  | 'handshake'
  | 'chunk'
  | 'amf'
  | 'message'
  | 'command'
  | 'flv'
  | 'codec'
  | 'limit';

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
}
