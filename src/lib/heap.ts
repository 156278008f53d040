/** V8 heap sizing (daemon.heap): margins that trade a few collections for memory. */
export interface HeapSizing {
  readonly growthPercent: number;
  readonly newSpaceGrowthFactor: number;
}

/**
 * V8's own choices. Tighter margins (15 and 1) kept 200 cameras near 250 MB instead of some
 * 470 MB, but at 500 cameras the old generation, grown by 15% at a time over a live heap of a
 * few hundred MB, was collected every second or so: the daemon carried a fifth of the reports.
 */
export const HEAP_DEFAULTS: HeapSizing = { growthPercent: 0, newSpaceGrowthFactor: 2 };

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
