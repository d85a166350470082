/**
 * Just enough RFC 5322 / MIME to turn a raw e-mail of the SpamAssassin corpus into the content
 * fields an ad has (`title` = Subject, `body` = the readable text, `email` = the From address),
 * so the evaluation runs the model through the same tokenizer as live traffic. Headers are
 * split from the body and unfolded, encoded words in the subject decoded, multipart bodies
 * walked (text parts only, three levels deep), quoted-printable and base64 decoded, HTML reduced
 * to its text with the link targets kept. Not a general mail parser: no attachments, and
 * charsets other than UTF-8 are read as Latin-1.
 */

// A type, not an interface: it is passed where `Record<string, string>` content is expected.
export type MailContent = {
  title: string;
  body: string;
  email: string;
};

interface Part {
  headers: Map<string, string>;
  body: string;
}

/**
 * The content fields of one raw message. `keepHtml`: HTML parts are given as sent, tags and
 * all, instead of reduced to their text (only the variant sweep of the evaluation uses it, to
 * measure tokens made from tags).
 */
export function parseMail(raw: string, options: { keepHtml?: boolean } = {}): MailContent {
  const message = splitPart(raw.replace(/\r\n/g, '\n'));
  const from = message.headers.get('from') ?? '';
  return {
    title: decodeWords(message.headers.get('subject') ?? '').trim(),
    body: bodyText(message, 0, options.keepHtml === true).replace(/[ \t]+/g, ' ').replace(/\n\s*\n+/g, '\n\n').trim(),
    email: (/[^\s<>"'()]+@[^\s<>"'()]+/.exec(from)?.[0] ?? '').toLowerCase(),
  };
}

function splitPart(text: string): Part {
  // The mbox "From " line of the corpus files is not a header.
  const start = text.startsWith('From ') ? text.indexOf('\n') + 1 : 0;
  const end = text.indexOf('\n\n', start);
  const head = end === -1 ? text.slice(start) : text.slice(start, end);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body: end === -1 ? '' : text.slice(end + 2) };
}

function bodyText(part: Part, depth: number, keepHtml: boolean): string {
  const type = (part.headers.get('content-type') ?? 'text/plain').toLowerCase();
  // Some spam is MIME without saying so: a boundary line followed by a part's headers.
  const undeclared = type.startsWith('multipart/') ? undefined : /^--([^\n]+?)[ \t]*\ncontent-type:/im.exec(part.body.slice(0, 4096))?.[1];
  if (type.startsWith('multipart/') || undeclared) {
    const boundary = undeclared ?? /boundary\s*=\s*"?([^";]+)"?/i.exec(part.headers.get('content-type') ?? '')?.[1];
    if (!boundary || depth >= 3) return '';
    const pieces = part.body.split(`--${boundary}`).slice(1);
    return pieces
      .filter((piece) => !piece.startsWith('--'))
      .map((piece) => bodyText(splitPart(piece.replace(/^[ \t]*\n/, '')), depth + 1, keepHtml))
      .filter(Boolean)
      .join('\n\n');
  }
  // An HTML page sent as an attachment is the message.
  const htmlFile = /name\s*=\s*"?[^";]*\.html?"?/i.test(type);
  if (!type.startsWith('text/') && !type.startsWith('message/') && !htmlFile) return '';
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1] ?? 'us-ascii';
  const text = decodeBody(part.body, part.headers.get('content-transfer-encoding') ?? '', charset);
  return !keepHtml && (type.startsWith('text/html') || htmlFile || LOOKS_HTML.test(text.slice(0, 4096))) ? htmlText(text) : text;
}

const LOOKS_HTML = /<(?:!doctype|html|head|body|table|p|div|font|br|center|a\s)\b/i;

function decodeBody(body: string, encoding: string, charset: string): string {
  const utf8 = /utf-?8/i.test(charset);
  const bytes = (binary: string) => (utf8 ? Buffer.from(binary, 'latin1').toString('utf8') : binary);
  switch (encoding.trim().toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString(utf8 ? 'utf8' : 'latin1');
    case 'quoted-printable':
      return bytes(body.replace(/=\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))));
    default:
      return body;
  }
}

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®' };

/** The readable text of HTML, with each link's target written after it. */
export function htmlText(html: string): string {
  return html
    .replace(/<(style|script)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<a\b[^>]*?\bhref\s*=\s*["']?([^"'\s>]+)[^>]*>/gi, ' $1 ')
    .replace(/<(?:br|p|div|tr|li|h\d)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
      }
      return ENTITIES[name.toLowerCase()] ?? entity;
    });
}

/** RFC 2047 encoded words (`=?utf-8?B?…?=`, `=?iso-8859-1?Q?…?=`) in a header. */
function decodeWords(header: string): string {
  return header.replace(/=\?([^?]+)\?([bq])\?([^?]*)\?=/gi, (_, charset: string, kind: string, text: string) => {
    const binary = kind.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('latin1')
      : text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (__, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return /utf-?8/i.test(charset) ? Buffer.from(binary, 'latin1').toString('utf8') : binary;
  });
}
