// Runs a CloudFront Functions file in a bare vm context, as the cloudfront-js runtime does:
// no require, no process, no modules. Usage: node cloudfront_runner.js FUNCTION.js < events.json
// Prints the handler's result for each event as a JSON array.
'use strict';
var fs = require('fs');
var vm = require('vm');

var source = fs.readFileSync(process.argv[2], 'utf8');
var events = JSON.parse(fs.readFileSync(0, 'utf8'));
var context = vm.createContext({});
vm.runInContext(source, context, { filename: process.argv[2] });
if (typeof context.handler !== 'function') {
  throw new Error('the file defines no top-level function handler(event)');
}
var results = events.map(function (event) {
  return context.handler(event);
});
process.stdout.write(JSON.stringify(results));
