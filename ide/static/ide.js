// Starts GraphiQL on /graphql (development only). React, ReactDOM and GraphiQL are the globals the
// vendored UMD builds define; nothing is loaded from another origin.
(function () {
  "use strict";

  var DEFAULT_QUERY = [
    "# The account center's GraphQL API (development).",
    "#",
    "# Signed in (e.g. with sessionCreateByPassword)?",
    "# Add the session token under Headers:",
    '#   {"Authorization": "Bearer <token>"}',
    "#",
    "# Run: Ctrl-Enter. Complete: Ctrl-Space.",
    "# Docs: the book icon on the left.",
    "",
    "query Agreements {",
    "  agreements {",
    "    kind",
    "    version",
    "    step",
    "  }",
    "}",
    "",
  ].join("\n");

  // The query and variables live in the address, so a link shares them.
  var parameters = new URLSearchParams(window.location.search);

  function remember(name, value) {
    if (value) {
      parameters.set(name, value);
    } else {
      parameters.delete(name);
    }
    var search = parameters.toString();
    history.replaceState(null, "", window.location.pathname + (search ? "?" + search : ""));
  }

  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + window.location.pathname });

  function App() {
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      query: parameters.get("query") || undefined,
      variables: parameters.get("variables") || undefined,
      onEditQuery: function (query) {
        remember("query", query);
      },
      onEditVariables: function (variables) {
        remember("variables", variables);
      },
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      // A bearer token typed under Headers is not kept in the browser's storage.
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
})();
