export declare const PARTS: Record<'server' | 'web', { output: string; sources: string[] }>;
export declare function staleParts(root: string): Array<'server' | 'web'>;
