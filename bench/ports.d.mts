export function portFree(port: number): Promise<boolean>;
export function freeBlock(size?: number): Promise<number>;
export function freePort(): Promise<number>;
export function addressInUse(error: unknown): boolean;
