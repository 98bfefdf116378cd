/** Settings of the HTTP service (`audit-trail serve`) and of `audit-trail tokens`. */
import {
  filePath,
  positiveInteger,
  setting,
  type SettingParser,
  text,
  wholeNumber,
} from '../../../common/settings.js';
import { HTTP_SERVICE_DEFAULTS } from './context.js';
import { TOKENS_FILE_SETTING } from './tokens.js';

export const HTTP_DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  ...HTTP_SERVICE_DEFAULTS,
} as const;

const anyPort = wholeNumber(0, 'a port number, 0 to 65535 (0: any free port)');
export const port: SettingParser<number> = {
  ...anyPort,
  parse: (raw) => {
    const n = anyPort.parse(raw);
    return n !== undefined && n <= 65_535 ? n : undefined;
  },
};

export const HTTP_SETTINGS = {
  port: setting({
    name: 'AUDIT_HTTP_PORT',
    parser: port,
    default: HTTP_DEFAULTS.port,
    doc: 'port of `serve` (also `--port`)',
  }),
  host: setting({
    name: 'AUDIT_HTTP_HOST',
    parser: text,
    default: HTTP_DEFAULTS.host,
    doc: 'address `serve` listens on (also `--host`); anything but loopback without TLS is warned about',
  }),
  tokensFile: setting({
    name: TOKENS_FILE_SETTING,
    parser: filePath,
    defaultDoc: 'required by `serve` and `tokens`',
    doc: 'file of `<name> sha256:<hex>` lines, the bearer tokens `serve` accepts (mode 600; `audit-trail tokens add NAME`)',
  }),
  tlsCert: setting({
    name: 'AUDIT_HTTP_TLS_CERT',
    parser: filePath,
    doc: 'certificate chain (PEM) for HTTPS, with `AUDIT_HTTP_TLS_KEY`; plain HTTP without them',
  }),
  tlsKey: setting({
    name: 'AUDIT_HTTP_TLS_KEY',
    parser: filePath,
    doc: 'private key (PEM, mode 600) for HTTPS, with `AUDIT_HTTP_TLS_CERT`',
  }),
  maxConcurrentExports: setting({
    name: 'AUDIT_HTTP_MAX_EXPORTS',
    parser: positiveInteger,
    default: HTTP_DEFAULTS.maxConcurrentExports,
    doc: 'exports `serve` streams at once (direct and downloads); more are answered 503 with Retry-After',
  }),
} as const;
