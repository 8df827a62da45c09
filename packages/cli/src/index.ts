export { main, buildProgram } from './main.js';
export { problemFromOptions, addProblemOptions, type ProblemOptions } from './problem-options.js';
