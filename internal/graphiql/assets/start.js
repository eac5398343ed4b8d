// Starts GraphiQL on the element #graphiql. Its settings come from that
// element's data attributes (endpoint, query, headers), so that the page
// needs no inline script and runs under a strict Content-Security-Policy.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var settings = root.dataset;
  var url = new URL(settings.endpoint, location.href);
  var subscriptionUrl = new URL(url.href);
  subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });
  ReactDOM.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: settings.query,
      defaultHeaders: settings.headers,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      // Tokens pasted into the headers stay in this tab, not in storage.
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    }),
    root,
  );
})();
