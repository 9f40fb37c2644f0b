import { api, ApiError, ENDPOINTS, getToken, setToken } from '../api.js';
import { h, mount } from '../dom.js';
import type { PageContext } from '../page-context.js';

/** where a person enters the API token the dashboard uses */
export async function settingsPage(ctx: PageContext): Promise<void> {
  const next = ctx.query.get('next');
  const input = h('input', {
    type: 'password',
    id: 'token',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
  });
  const remember = h('input', { type: 'checkbox', id: 'remember' });
  const result = h('p', { 'aria-live': 'polite' });
  const form = h(
    'form',
    {
      class: 'card',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const value = input.value.trim();
        setToken(value, remember.checked);
        try {
          await api(ENDPOINTS.listCheckpoints, { query: { limit: 1 } });
          result.className = 'ok';
          result.textContent = 'The registry accepted this token.';
          location.hash = next && next.startsWith('#/') && !next.startsWith('#/settings') ? next : '#/';
        } catch (err) {
          setToken(null, false);
          result.className = 'error-text';
          result.textContent = err instanceof ApiError ? err.message : String(err);
        }
      },
    },
    h('label', { for: 'token' }, 'API token'),
    input,
    h('label', { class: 'check' }, remember, ' Remember on this computer (otherwise until this tab closes)'),
    h('button', { type: 'submit', class: 'primary' }, 'Use this token'),
    result,
  );
  mount(
    ctx.main,
    h('h1', null, 'Token'),
    h(
      'p',
      null,
      'The dashboard uses the same API and tokens as every other client. Paste a token (read scope to browse, admin for webhooks). The first start of the registry printed an admin token; admins make more with POST /tokens.',
    ),
    getToken()
      ? h(
          'p',
          null,
          'A token is set. ',
          h(
            'button',
            {
              type: 'button',
              onclick: () => {
                setToken(null, false);
                void settingsPage(ctx);
              },
            },
            'Forget it',
          ),
        )
      : null,
    form,
  );
  input.focus();
}
