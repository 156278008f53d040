/** V8 heap sizing (daemon.heap): margins that trade a few collections for memory. */
export interface HeapSizing {
  readonly growthPercent: number;
  readonly newSpaceGrowthFactor: number;
}

export const HEAP_DEFAULTS: HeapSizing = { growthPercent: 15, newSpaceGrowthFactor: 1 };

/**
 * The flags for V8: both are read each time V8 resizes the heap, so they take effect at run time.
 * growthPercent 0 and factor 2 are V8's own choices.
 */
export function heapFlags(heap: HeapSizing): string[] {
  return [
    `--heap-growing-percent=${heap.growthPercent}`,
    `--semi-space-growth-factor=${heap.newSpaceGrowthFactor}`,
  ];
}

/** Set by the entry point before anything else loads; this module must stay free of imports. */
export const EARLY_V8_FLAGS = heapFlags(HEAP_DEFAULTS).join(" ");
