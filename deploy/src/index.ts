export { CollectorStack, CONTAINER_PORT, type CollectorStackProps } from './collector-stack.js';
export { buildCdkApp } from './app.js';
