/** The names of the analysis components every index defines, shared by both mapping styles (mapping.ts, rustMapping.ts). */
export const TEXT_ANALYZER = "flusso_text"
export const CODE_ANALYZER = "flusso_code"
export const LOWERCASE_NORMALIZER = "flusso_lowercase"
