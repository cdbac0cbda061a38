// The prefixes libvirt puts before an error's detail, by error code (src/util/virerror.c). One
// table for everything that builds or recognises libvirt's messages (the model, the fuzzer).
export const ERROR_PREFIX = {
  XML_ERROR: 'XML error: ',
  XML_DETAIL: '',
  CONFIG_UNSUPPORTED: 'unsupported configuration: ',
  INTERNAL_ERROR: 'internal error: ',
  INVALID_ARG: 'invalid argument: ',
  OVERFLOW: 'numerical overflow: ',
  OPERATION_INVALID: 'Requested operation is not valid: ',
  OPERATION_FAILED: 'operation failed: ',
  OPERATION_UNSUPPORTED: 'Operation not supported: ',
  CPU_INCOMPATIBLE: 'the CPU is incompatible with host CPU: ',
} as const;

export type ErrorCode = keyof typeof ERROR_PREFIX;
