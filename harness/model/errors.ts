// libvirt reports errors as "<code prefix>: <detail>" (src/util/virerror.c). The model raises
// the same codes so its messages are word for word what libvirt prints.
import { ERROR_PREFIX as PREFIX, type ErrorCode } from '../neutral/libvirt-errors.js';

export type { ErrorCode };

/** An error libvirt itself would report, with its exact wording. */
export class LibvirtError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
  ) {
    // An expected outcome, not a bug: skip the stack capture (it dominated error cases).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(PREFIX[code] + detail);
    Error.stackTraceLimit = limit;
    this.name = 'LibvirtError';
  }
}

/** Input that is valid for libvirt but outside what the model reproduces: refused, never guessed. */
export class NotModelledError extends Error {
  constructor(what: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`not modelled: ${what}`);
    Error.stackTraceLimit = limit;
    this.name = 'NotModelledError';
  }
}

export const fail = (code: ErrorCode, detail: string): never => {
  throw new LibvirtError(code, detail);
};

export const notModelled = (what: string): never => {
  throw new NotModelledError(what);
};

/** An XML parse error in the words of the profile's libvirt release (the readers word it as
 *  9.0.0's virsh does, naming the input "(domain_definition)"). */
export function xmlErrorText(message: string, atLine: boolean): string {
  return atLine ? message.replace(/^\(domain_definition\):(\d+): /, 'at line $1: ') : message;
}
