/** The rules layer: rule-set schema, validation, loading, the two evaluators and explanation. */
export * from './schema.js';
export * from './validate.js';
export * from './outcome.js';
export * from './compile.js';
export * from './engine.js';
export * from './cases.js';
export * from './load.js';
export { OPERATORS, compilePath, isOperatorName, type OperatorFn } from './operators.js';
