// libvirt reports errors as "<code prefix>: <detail>" (src/util/virerror.c). The model raises
// the same codes so its messages are word for word what libvirt prints.
export type ErrorCode =
  | 'XML_ERROR'
  | 'XML_DETAIL'
  | 'CONFIG_UNSUPPORTED'
  | 'INTERNAL_ERROR'
  | 'INVALID_ARG'
  | 'OVERFLOW'
  | 'OPERATION_INVALID'
  | 'OPERATION_UNSUPPORTED'
  | 'CPU_INCOMPATIBLE';

const PREFIX: Record<ErrorCode, string> = {
  XML_ERROR: 'XML error: ',
  XML_DETAIL: '',
  CONFIG_UNSUPPORTED: 'unsupported configuration: ',
  INTERNAL_ERROR: 'internal error: ',
  INVALID_ARG: 'invalid argument: ',
  OVERFLOW: 'numerical overflow: ',
  OPERATION_INVALID: 'Requested operation is not valid: ',
  OPERATION_UNSUPPORTED: 'Operation not supported: ',
  CPU_INCOMPATIBLE: 'the CPU is incompatible with host CPU: ',
};

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
