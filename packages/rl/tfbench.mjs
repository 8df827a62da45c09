import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-wasm';
const backend = process.argv[2] ?? 'wasm';
await tf.setBackend(backend); await tf.ready();
console.log('backend', tf.getBackend());
const D=33,H=64,A=4,B=+(process.argv[3]??2048);
const shared = process.argv[4]==='shared';
const v=(r,c)=>tf.variable(tf.randomNormal([r,c],0,0.1));
const layers = shared? [v(D,H),v(H,H),v(H,A),v(H,1)] : [v(D,H),v(H,H),v(H,A),v(D,H),v(H,H),v(H,1)];
const opt=tf.train.adam(3e-4,0.9,0.999,1e-5);
const x=tf.randomNormal([B,D]);
const y=tf.randomNormal([B,A]);
function loss(){
  if(shared){const h=tf.tanh(tf.matMul(tf.tanh(tf.matMul(x,layers[0])),layers[1]));return tf.add(tf.mean(tf.square(tf.sub(tf.matMul(h,layers[2]),y))),tf.mean(tf.square(tf.matMul(h,layers[3]))));}
  const h=tf.tanh(tf.matMul(tf.tanh(tf.matMul(x,layers[0])),layers[1]));
  const g=tf.tanh(tf.matMul(tf.tanh(tf.matMul(x,layers[3])),layers[4]));
  return tf.add(tf.mean(tf.square(tf.sub(tf.matMul(h,layers[2]),y))),tf.mean(tf.square(tf.matMul(g,layers[5]))));
}
for(let i=0;i<5;i++) tf.tidy(()=>opt.minimize(loss));
const n=40; const t0=performance.now();
for(let i=0;i<n;i++) { tf.tidy(()=>{opt.minimize(loss)}); }
await tf.ready(); const l=tf.tidy(loss).dataSync();
const dt=(performance.now()-t0)/1000;
console.log(`B=${B} ${shared?'shared':'separate'}: ${(n*B/dt).toFixed(0)} samples/s (one grad step each)`);
