// Validates the documents `edge cloudfront` prints against AWS's own
// CloudFront API model, with the AWS SDK's parameter validator (required
// members, types, enums, lengths, patterns): node validate.js setup.json
const AWS = require('aws-sdk');
const fs = require('fs');

const docs = JSON.parse(fs.readFileSync(process.argv[2]));
const api = new AWS.CloudFront({region: 'us-east-1'}).api;
const validator = new AWS.ParamValidator({min: true, max: true, pattern: true, enum: true});
const inputs = {
  origin_access_control: ['createOriginAccessControl', 'OriginAccessControlConfig'],
  manifest_cache_policy: ['createCachePolicy', 'CachePolicyConfig'],
  cors_response_headers_policy: ['createResponseHeadersPolicy', 'ResponseHeadersPolicyConfig'],
  distribution: ['createDistribution', 'DistributionConfig'],
};
let invalid = 0;
for (const [name, [operation, member]] of Object.entries(inputs)) {
  try {
    validator.validate(api.operations[operation].input, {[member]: docs[name]});
    console.log('valid', name);
  } catch (e) {
    invalid++;
    console.log('INVALID', name, e.code, e.message);
  }
}
process.exit(invalid ? 1 : 0);
