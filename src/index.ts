// The bundle's entry: the main step, or the post step when the runner says this is post.
import * as core from '@actions/core'
import { post } from './post.js'
import { run } from './main.js'
import { state } from './state.js'
import { errorMessage } from './text.js'

// The only top-level call: one bundle serves the main step and the post step.
async function entry(): Promise<void> {
  if (state.isPost()) {
    await post()
  } else {
    state.markPost()
    await run()
  }
}

entry().catch((err: unknown) => {
  core.setFailed(errorMessage(err))
})
