/**
 * Logging without dependencies. A library must not write to stderr on its own, so the default
 * logger goes to `util.debuglog("mqwire")` (visible with NODE_DEBUG=mqwire); applications inject
 * their own (pino, console) through the `logger` option of servers and clients.
 */
import { debuglog } from "node:util";

/** The four levels mqwire logs at; any console-like object fits. */
export interface Logger {
  /** Detail for debugging (`NODE_DEBUG=mqwire` by default). */
  debug(message: string, ...args: unknown[]): void;
  /** Normal events worth a line. */
  info(message: string, ...args: unknown[]): void;
  /** Something went wrong and was handled (a malformed frame, a failed connect). */
  warn(message: string, ...args: unknown[]): void;
  /** Something went wrong that mqwire could not handle. */
  error(message: string, ...args: unknown[]): void;
}

const debug = debuglog("mqwire");

/** The default logger: everything through NODE_DEBUG=mqwire. */
export const defaultLogger: Logger = {
  debug: (m, ...a) => debug(m, ...a),
  info: (m, ...a) => debug(m, ...a),
  warn: (m, ...a) => debug(`WARN ${m}`, ...a),
  error: (m, ...a) => debug(`ERROR ${m}`, ...a),
};

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
