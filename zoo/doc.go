// Package zoo builds glassbox's named models: linear, perceptron, mlp,
// deep, lenet, cnn, rnn, lstm and gru, sized from the data they will see
// (input shape, number of classes, vocabulary). They are ordinary
// nn.Sequential models: print them with model.Summary, save them with
// model.Save, explain them with package explain.
package zoo
