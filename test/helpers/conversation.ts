import type { ModelRequest } from '../../src/models/request.js';

/** The request every family adapter test turns into its native body: system prompt, 3 turns, all params. */
export const conversation: ModelRequest = {
  system: 'You are terse.',
  messages: [
    { role: 'user', content: 'What is Bedrock?' },
    { role: 'assistant', content: 'A managed model service.' },
    { role: 'user', content: 'Name two families.' },
  ],
  params: { maxTokens: 300, temperature: 0.2, topP: 0.9, stopSequences: ['END', 'User:'] },
};
