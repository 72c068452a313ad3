import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { api, setCsrf, setUnauthorizedHandler } from './api';
import { Endpoint, Endpoints, Findings, Login, Overview, Servers, ToolCalls, Tools } from './pages';

type Me = { name: string; scope: string } | null;

function Shell() {
  const [me, setMe] = useState<Me | undefined>(undefined);
  const { route, path } = useLocation();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      setMe(null);
      route('/ui/login');
    });
    api('GET', '/session').then(
      (s) => {
        setCsrf(s.csrfToken);
        setMe({ name: s.name, scope: s.scope });
      },
      () => {
        setMe(null);
        if (path !== '/ui/login') route('/ui/login');
      },
    );
  }, []);
  if (me === undefined) return <p class="loading">Loading…</p>;
  if (me === null || path === '/ui/login') return <Login onSignedIn={(m) => setMe(m)} />;
  const logout = async () => {
    await api('DELETE', '/session').catch(() => undefined);
    setCsrf(null);
    setMe(null);
    route('/ui/login');
  };
  const nav = [
    ['/ui/', 'Overview'],
    ['/ui/endpoints', 'Endpoints'],
    ['/ui/servers', 'Servers'],
    ['/ui/findings', 'Findings'],
    ['/ui/tools', 'Tools'],
    ['/ui/tool-calls', 'Tool calls'],
  ];
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header>
        <span class="brand">mcpwatch</span>
        <nav aria-label="Main">
          {nav.map(([href, label]) => (
            <a href={href} aria-current={(href === '/ui/' ? path === '/ui/' : path.startsWith(href!)) ? 'page' : undefined}>{label}</a>
          ))}
        </nav>
        <span class="who">
          {me.name} <span class="scope">({me.scope})</span>
          <button type="button" onClick={logout}>Sign out</button>
        </span>
      </header>
      <main id="main">
        <Router>
          <Route path="/ui/" component={Overview} />
          <Route path="/ui/endpoints" component={Endpoints} />
          <Route path="/ui/endpoints/:id" component={() => <Endpoint me={me} />} />
          <Route path="/ui/servers" component={Servers} />
          <Route path="/ui/findings" component={Findings} />
          <Route path="/ui/tools" component={Tools} />
          <Route path="/ui/tool-calls" component={ToolCalls} />
          <Route default component={() => <><h1>Not found</h1><p><a href="/ui/">Back to the overview</a></p></>} />
        </Router>
      </main>
    </>
  );
}

render(
  <LocationProvider>
    <Shell />
  </LocationProvider>,
  document.getElementById('app')!,
);
