/** The long-lived heap the app-heap scenarios give every process, in MiB (see ./app-heap.ts). */
export const APP_HEAP_MIB = 32;
