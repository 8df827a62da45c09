// Types of scripts/gen-contract.mjs for its TypeScript importer (test/contract.test.ts).
/** The package-relative path of each generated file. */
export declare const OUTPUTS: { readonly assembly: string; readonly ts: string };
/** The two generated files as strings. */
export declare function render(): { assembly: string; ts: string };
