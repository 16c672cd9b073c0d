// Starts Swagger UI for /docs from the page's JSON data block (no inline script, so a strict CSP holds).
// validatorUrl: null keeps Swagger UI from fetching a validity badge from validator.swagger.io.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("swagger-config").textContent);
  window.ui = SwaggerUIBundle({
    url: config.url,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
