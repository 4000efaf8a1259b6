// The answer to NetConnection.connect (RTMP 1.0 spec §7.2.1.1), apart from the
// session that sends it: which app is asked for, which AMF encoding replies
// use, and the control messages and _result that accept it. Pure, so the
// session only applies the outcome.
import { isSafeName } from '../names.js';
import type { OutgoingMessage } from './chunk-writer.js';
import { error, result, status, type Command } from './commands.js';
import { OUT_CHUNK_SIZE } from './media-output.js';
import { setChunkSize, setPeerBandwidth, windowAckSize } from './messages.js';
import { withoutQuery } from './session-contract.js';

export type ConnectAnswer =
  | {
      ok: true;
      app: string;
      /** replies are AMF3-encoded */
      amf3: boolean;
      /** sent before the result; the last one raises the chunk size the result goes out with */
      control: OutgoingMessage[];
      result: OutgoingMessage;
      /** for the log line: the client's version and its tcUrl without the query */
      logged: { flashVer: unknown; tcUrl: unknown };
    }
  | { ok: false; amf3: boolean; reply: OutgoingMessage; reason: string };

/** `amf3Message`: the connect came as an AMF3 command message. */
export function answerConnect(cmd: Extract<Command, { name: 'connect' }>, amf3Message: boolean, ackWindow: number): ConnectAnswer {
  const rawApp = typeof cmd.object['app'] === 'string' ? cmd.object['app'] : '';
  // Some clients put a trailing slash or a query on the app; the query belongs to auth, not the name.
  const app = rawApp.split('?')[0]!.replace(/\/+$/, '');
  const amf3 = amf3Message || cmd.object['objectEncoding'] === 3;
  if (!isSafeName(app)) {
    return {
      ok: false,
      amf3,
      reply: error(cmd.txn, status('error', 'NetConnection.Connect.Rejected', 'Invalid application name.'), amf3),
      reason: `connect refused: invalid app name ${JSON.stringify(withoutQuery(rawApp).slice(0, 80))}`,
    };
  }
  const objectEncoding = cmd.object['objectEncoding'] === 3 ? 3 : 0;
  const tcUrl = cmd.object['tcUrl'];
  return {
    ok: true,
    app,
    amf3,
    control: [windowAckSize(ackWindow), setPeerBandwidth(ackWindow, 2), setChunkSize(OUT_CHUNK_SIZE)],
    result: result(
      cmd.txn,
      {
        fmsVer: 'FMS/3,5,7,7009',
        capabilities: 31,
        mode: 1,
        // Enhanced RTMP v2: every codec is passed through unchanged, so the client's list is accepted as is.
        ...(Array.isArray(cmd.object['fourCcList']) ? { fourCcList: cmd.object['fourCcList'] } : {}),
      },
      status('status', 'NetConnection.Connect.Success', 'Connection succeeded.', { objectEncoding }),
      amf3,
    ),
    // Some clients put `?exp=&sig=` on the app, so tcUrl is logged without its query.
    logged: { flashVer: cmd.object['flashVer'], tcUrl: typeof tcUrl === 'string' ? withoutQuery(tcUrl) : tcUrl },
  };
}
